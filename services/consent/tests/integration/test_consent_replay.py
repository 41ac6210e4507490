"""Consent state rebuilt from the consent events into a fresh database equals the live state."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from consent.adapters.mongo_consents import HEADS, SHARDS, VERSIONS, MongoConsents
from consent.entrypoints.cli import replay
from consent_testing import ConsentHarness, as_user, new_app, new_user, terms_updated, user_deleted
from kits_testing import eventually
from shared.mongo import shard_name

pytestmark = pytest.mark.integration


async def test_replay_into_a_fresh_database_equals_the_live_state(
    consent: ConsentHarness, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> None:
    consents = consent.container.consents
    apps, users = [new_app(), new_app()], [new_user() for _ in range(4)]
    for app in apps:
        await consent.register(app)
    for n, user in enumerate(users):
        for app in apps:
            await consents.grant(
                user_key=user,
                app_id=app,
                scopes=("user.info.basic", "video.list")[: 1 + n % 2],
                purpose=f"purpose {n}",
                pairwise_subject=f"ps_{n}_{app[-4:]}",
            )
    first = await consents.latest(user_key=users[0], app_id=apps[0])
    assert first is not None
    await consent.http.post(f"/v1/me/consents/{first.consent_id}/revoke", headers=as_user(users[0]))
    await consents.grant(  # a new consent after the revocation
        user_key=users[0],
        app_id=apps[0],
        scopes=("video.list",),
        purpose="again",
        pairwise_subject="ps_a",
    )
    await consent.send_auth(terms_updated(apps[1], new="t2"))

    async def settled(status: str, *, of: list[str], app: str) -> bool:
        latest = [await consents.latest(user_key=u, app_id=app) for u in of]
        return all(c is not None and c.status == status for c in latest)

    await eventually(lambda: settled("invalidated", of=users, app=apps[1]))
    await consent.send_auth(user_deleted(users[3]))
    await eventually(lambda: settled("revoked", of=users[3:], app=apps[0]))
    await eventually(lambda: settled("revoked", of=users[3:], app=apps[1]))
    await consents.grant(  # a renewal under the new terms
        user_key=users[1],
        app_id=apps[1],
        scopes=("video.list",),
        purpose="r",
        pairwise_subject="ps_r",
    )
    live = consent.container.runtime.db
    store = MongoConsents(live)
    versions = len(await store.every(VERSIONS))
    assert versions == 8 + 2 + 4 + 2 + 1  # grants, revoke + new grant, invalidations, deletion

    into = f"t_consent_replay_{uuid.uuid4().hex[:10]}"
    try:
        result = await replay(consent.container, into=into)
        assert result["differences"] == []
        assert result["problems"] == []
        assert result["ok"] is True
        assert result["versions"] == versions
        assert len(await MongoConsents(mongo_client[into]).every(HEADS)) == 8

        await live[
            shard_name(VERSIONS, first.consent_id, shards=SHARDS)
        ].update_one(  # a tampered live field is found and named
            {"_id": f"{first.consent_id}#1"}, {"$set": {"purpose": "something else"}}
        )
        again = await replay(consent.container, into=into)
        assert again["ok"] is False
        assert again["differences"] == [f"{VERSIONS} {first.consent_id}#1: purpose differ"]
    finally:
        await mongo_client.drop_database(into)
