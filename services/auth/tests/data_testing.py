"""The data API on the real servers: a running auth whose transfer records go to a topic of the
test's own, with fakes for the ports other parts of issue 17 build (access tokens, the consent
check), a seeded user, and a probe that counts the topic's records at the first response byte."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from oauth_fakes import FakeAccessTokens, FakeConsentCheck, covered, new_grant
from pymongo import AsyncMongoClient

from auth.bootstrap import Container
from auth.domain.grants import Grant
from auth.domain.identity import new_user_key
from auth.main import create_app
from auth_testing import ISSUER, auth_settings
from kits_testing import Servers, read_topic, topic_size
from shared.events import CloudEvent, parse
from shared.events.transfer import TransferRecorded

DATA_PATHS = ("/v2/", "/oauth/userinfo")
VIDEOS = 5
BASE_MS = 1_764_000_000_000


class FirstByteProbe:
    """ASGI middleware: when a data route starts its response, count the records on the topic
    (so a test sees whether the record was durable before any byte left)."""

    def __init__(self, app: Any, *, count: Callable[[], Awaitable[int]]) -> None:
        self.app, self.count = app, count
        self.seen: list[int] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(DATA_PATHS):
            await self.app(scope, receive, send)
            return

        async def probed(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.seen.append(await self.count())
            await send(message)

        await self.app(scope, receive, probed)


@dataclass
class DataHarness:
    """The app, its client, the fakes, the topic of the records and one seeded user."""

    container: Container
    http: httpx.AsyncClient
    tokens: FakeAccessTokens
    consent: FakeConsentCheck
    topic: str
    servers: Servers
    probe: FirstByteProbe
    user_key: str = ""
    issued: dict[str, Grant] = field(default_factory=dict)

    def token(self, *scopes: str) -> str:
        """A token of a fresh app for the seeded user, whose consent covers it."""
        grant = new_grant(scopes=scopes, user_key=self.user_key)
        token = self.tokens.issue(grant)
        self.issued[token] = grant
        self.consent.answers[(grant.user_key, grant.client_id)] = covered(grant)
        return token

    async def records(self, count: int) -> list[CloudEvent[TransferRecorded]]:
        """The first `count` transfer records of the test's topic, read back from Kafka."""
        found = await read_topic(self.servers.kafka, self.topic, count=count)
        events = [parse(r.value) for r in found]
        assert all(isinstance(e.data, TransferRecorded) for e in events)
        return events

    async def published(self) -> int:
        """How many records the topic holds."""
        return await topic_size(self.servers.kafka, self.topic)


async def seed_user(container: Container) -> str:
    """A user with a profile and five videos, through the profile handlers."""
    user_key = new_user_key()
    await container.profiles.edit(
        user_key,
        display_name="Chiara Rhee",
        avatar_url="https://cdn.example/chiara.png",
        bio="Ceramics, slowly.",
    )
    for n in range(VIDEOS):
        await container.profiles.add_video(
            user_key,
            title=f"Kiln day {n}",
            cover_url=f"https://cdn.example/k{n}.jpg",
            duration_s=30 + n,
            video_id=f"vid-{n}",
            created_ms=BASE_MS + n * 60_000,
        )
    return user_key


@pytest.fixture
async def data(
    servers: Servers,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> AsyncIterator[DataHarness]:
    """Auth with its records on a fresh 3-partition topic, and a seeded user."""
    topic = await make_topic(unique("t-transfers"), partitions=3)
    settings = auth_settings(servers, transfers_topic=topic)
    app = create_app(settings)
    container: Container = app.state.container
    tokens, consent = FakeAccessTokens(), FakeConsentCheck()
    container.access_tokens, container.consent_check = tokens, consent
    probe = FirstByteProbe(app, count=lambda: topic_size(servers.kafka, topic))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=probe), base_url=ISSUER) as http,
    ):
        harness = DataHarness(container, http, tokens, consent, topic, servers, probe)
        harness.user_key = await seed_user(container)
        yield harness
    await mongo_client.drop_database(settings.database_name)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


def envelope_error(response: httpx.Response) -> dict[str, Any]:
    """The `error` object of a Login Kit answer (its data must be empty)."""
    body = json.loads(response.content)
    assert body["data"] == {}, body
    error: dict[str, Any] = body["error"]
    return error
