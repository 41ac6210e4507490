"""The real consent service on a live port of 127.0.0.1, for tests that join auth and consent.

Consent runs as it is deployed (its own thread, event loop, database, consumer group and test
topics on the shared broker); the test reaches it only over HTTP and Kafka. Apps reach it the
way auth's registrations do: an `auth.*` event on the topic consent consumes (`register`, or
`forward` of the very bytes auth published to `auth.events`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from pymongo import AsyncMongoClient

from consent.adapters.mongo_apps import MongoApps
from consent.config import ConsentSettings
from consent.main import create_app
from consent_testing import (
    ISSUER,
    USER_TOKEN_KEY,
    FakeDeletionRequester,
    as_user,
    consent_settings,
    event_of,
    registered,
)
from kits_browser import live_server
from kits_testing import Servers
from screen_testing import challenge
from shared.events.envelope import CONTENT_TYPE
from shared.kafka.broker import ensure_topics, make_broker
from shared.kafka.publisher import DurablePublisher
from shared.settings import ServiceSettings
from shared.topics import DOMAIN_PARTITIONS, TopicSpec

TEST_CALLBACK = "http://127.0.0.1:1/test/consent/callback"  # the tests' own grants return here


@dataclass
class LiveConsent:
    """Consent over real HTTP, and the test's ways to feed it auth's events."""

    url: str
    settings: ConsentSettings
    publisher: DurablePublisher
    apps: MongoApps

    async def forward(self, *, value: bytes, key: bytes | None) -> None:
        """Put one of auth's events on the topic consent consumes, byte for byte."""
        await self.publisher.publish_raw(
            topic=self.settings.auth_events_topic,
            value=value,
            key=key,
            headers={"content-type": CONTENT_TYPE},
        )

    async def register(self, app_id: str, *, scopes: tuple[str, ...] | None = None) -> None:
        """Register an app as auth's event would, and wait until consent knows it."""
        data = registered(app_id) if scopes is None else registered(app_id, scopes=scopes)
        event = event_of(data)
        await self.forward(value=event.to_bytes(), key=event.key())
        await self.until_app(app_id)

    async def until_app(self, app_id: str, *, timeout_s: float = 30.0) -> None:
        """Wait until consent's read model holds the app."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            if await self.apps.get(app_id) is not None:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"consent never saw {app_id}")

    async def grant(self, user_key: str, app_id: str, scopes: tuple[str, ...]) -> str:
        """A consent recorded through the screen (a challenge signed with the test's user-token
        key, which this consent trusts); its id."""
        made = challenge(
            key=USER_TOKEN_KEY,
            user_key=user_key,
            app_id=app_id,
            scopes=scopes,
            iss=ISSUER,
            return_to=TEST_CALLBACK,
        )
        async with httpx.AsyncClient(base_url=self.url, timeout=20) as http:
            answer = await http.post(
                "/consent",
                data={"challenge": made.token, "decision": "allow"},
                headers={"cookie": f"{self.settings.flow_cookie}={made.nonce}"},
            )
        assert answer.status_code == 303, answer.text
        verdict = parse_qs(urlsplit(answer.headers["location"]).query)["verdict"][0]
        claims = json.loads(_b64(verdict.split(".")[1]))
        consent_id: str = claims["consent_id"]
        return consent_id

    async def revoke(self, user_key: str, consent_id: str) -> None:
        """The user revokes the consent (returns once consent's revoke call returned)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=20) as http:
            answer = await http.post(
                f"/v1/me/consents/{consent_id}/revoke", headers=as_user(user_key)
            )
        assert answer.status_code == 200, answer.text


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@contextlib.asynccontextmanager
async def live_consent(
    servers: Servers, *, sock: socket.socket | None = None, **overrides: Any
) -> AsyncIterator[LiveConsent]:
    """Run consent on a free port (or `sock`'s) until the block ends (its topics the test's
    own), then drop its database. `overrides` are consent settings (e.g. `service_callers`)."""
    suffix = uuid.uuid4().hex[:8]
    events, auth_topic = f"t-consent-events-{suffix}", f"t-auth-events-{suffix}"
    specs = [TopicSpec(name, DOMAIN_PARTITIONS, 3_600_000, "test") for name in (events, auth_topic)]
    await ensure_topics(bootstrap_servers=servers.kafka, topics=specs)
    callbacks = overrides.pop("auth_callback_urls", "")
    settings = consent_settings(
        servers,
        events_topic=events,
        auth_events_topic=auth_topic,
        auth_callback_urls=",".join(u for u in (TEST_CALLBACK, callbacks) if u),
        **overrides,
    )
    broker = make_broker(
        ServiceSettings(environment="development", kafka_bootstrap_servers=servers.kafka)
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url)
    await broker.start()
    try:
        app = create_app(settings, deletions=FakeDeletionRequester())
        async with live_server(app, sock=sock) as url:
            yield LiveConsent(
                url=url,
                settings=settings,
                publisher=DurablePublisher(broker=broker, deadline_s=10),
                apps=MongoApps(client[settings.database_name]),
            )
    finally:
        await broker.stop()
        await client.drop_database(settings.database_name)
        await client.close()
