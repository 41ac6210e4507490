"""The user key is not the number: lookup rotation and account deletion on the real servers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from aiokafka.structs import ConsumerRecord

from auth.adapters.mongo_login import LOOKUPS, SESSIONS
from auth.main import create_app
from auth_testing import ISSUER, AuthHarness, auth_settings, log_in, random_number, skip_ahead
from kits_testing import Servers, read_since, topic_ends
from shared.mongo import Shards
from shared.topics import AUTH_EVENTS

pytestmark = pytest.mark.integration
KEY_1 = "lk1=dev-only-lookup-key-number-one"
KEY_2 = "lk2=dev-only-lookup-key-number-two"


@asynccontextmanager
async def running(servers: Servers, **overrides: Any) -> AsyncIterator[AuthHarness]:
    app = create_app(auth_settings(servers, **overrides))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as client,
    ):
        yield AuthHarness(container=app.state.container, http=client)


async def test_a_login_under_a_newer_key_finds_the_user_and_rekeys_the_lookup(
    servers: Servers, auth: AuthHarness
) -> None:
    database = auth.settings.database_name
    phone = random_number()
    async with running(
        servers, mongodb_database=database, lookup_keys=KEY_1, lookup_key_id="lk1"
    ) as old:
        user_key = await log_in(old.http, phone)
    lookups = Shards(auth.container.runtime.db, LOOKUPS)
    before = await lookups.find()
    assert [d["key_id"] for d in before] == ["lk1"]
    async with running(
        servers,
        mongodb_database=database,
        lookup_keys=f"{KEY_2},{KEY_1}",
        lookup_key_id="lk2",
    ) as new:
        skip_ahead(new, 61)
        assert await log_in(new.http, phone) == user_key
    after = await lookups.find()
    assert [(d["key_id"], d["user_key"]) for d in after] == [("lk2", user_key)]
    assert after[0]["_id"] != before[0]["_id"]
    async with running(
        servers, mongodb_database=database, lookup_keys=KEY_2, lookup_key_id="lk2"
    ) as only_new:  # the old key can now be dropped: nothing is keyed by it any more
        skip_ahead(only_new, 3600 * 24)
        assert await log_in(only_new.http, phone) == user_key


async def test_deleting_the_account_removes_the_lookup_and_sessions_and_is_published(
    servers: Servers, auth: AuthHarness
) -> None:
    phone = random_number()
    since = await topic_ends(servers.kafka, AUTH_EVENTS)
    user_key = await log_in(auth.http, phone)
    other = await log_in(
        httpx.AsyncClient(transport=auth.http._transport, base_url=ISSUER),
        random_number(),
    )
    answer = await auth.http.delete("/v1/me")
    assert answer.status_code == 204
    assert (await auth.http.get("/v1/session")).status_code == 401
    db = auth.container.runtime.db
    assert await Shards(db, LOOKUPS).count({"user_key": user_key}) == 0
    assert await Shards(db, SESSIONS).count({"user_key": user_key}) == 0
    assert await db["users"].count_documents({"_id": user_key}) == 0
    assert await db["users"].count_documents({"_id": other}) == 1

    def deleted(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        return any(
            r.key == user_key.encode() and json.loads(r.value)["type"] == "auth.user_deleted.v1"
            for r in records
        )

    assert deleted(await read_since(servers.kafka, AUTH_EVENTS, since=since, until=deleted))
    # The number now leads nowhere: a new login makes a new, unrelated user.
    skip_ahead(auth, 61)
    assert await log_in(auth.http, phone) != user_key


async def test_deletion_without_a_session_is_401(auth: AuthHarness) -> None:
    assert (await auth.http.delete("/v1/me")).status_code == 401
