"""Auth, consent and audit side by side on live ports, wired as `make up` wires them, with the
REAL authorization codes store and the REAL transfer recorder (Kafka): the Login Kit end to end.

Transfers go to a topic of the test's own, which this audit's ledger reads; consent's events go
to a topic of the test's own, which this auth consumes. An app is registered over auth's API.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from apps_testing import EventsSince, app_body, bearer
from consent_live import LiveConsent, live_consent
from oauth_stack import new_developer_key
from pymongo import AsyncMongoClient

from audit.main import create_app as create_audit
from audit_testing import AS_AUDITOR, audit_settings
from auth.bootstrap import Container, bootstrap
from auth.config import AuthSettings
from auth.main import create_app
from auth_testing import auth_settings
from kits_browser import free_socket, live_server
from kits_testing import Servers
from shared.events import CloudEvent, parse
from shared.kafka.broker import ensure_topics
from shared.topics import DOMAIN_PARTITIONS, TopicSpec

SCOPES = ("openid", "user.info.basic", "video.list")


@dataclass
class LoginKit:
    """The three services, serving, and the registered app's credentials."""

    auth: str
    audit: str
    consent: LiveConsent
    settings: AuthSettings
    container: Container
    client_id: str
    client_secret: str
    transfers_topic: str

    def user_token(self, user_key: str) -> str:
        """A user session token exactly as auth signs it (consent trusts auth's JWKS)."""
        return self.container.user_tokens.mint(user_key=user_key)

    async def transfers(self, *, at_least: int, timeout_s: float = 30.0) -> list[CloudEvent[Any]]:
        """Every `transfer.recorded.v1` on the test's own topic (once there are `at_least`)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers, enable_auto_commit=False
        )
        await consumer.start()
        found: list[CloudEvent[Any]] = []
        try:
            parts = [TopicPartition(self.transfers_topic, p) for p in range(DOMAIN_PARTITIONS)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            deadline = _now() + timeout_s
            while _now() < deadline:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    found += [parse(r.value) for r in records if r.value]
                done = all([await consumer.position(tp) >= ends[tp] for tp in parts])
                if done and len(found) >= at_least:
                    break
                if done:
                    ends = await consumer.end_offsets(parts)
        finally:
            await consumer.stop()
        return found

    async def entry(self, event: CloudEvent[Any]) -> httpx.Response:
        """The audit's answer for the event's ledger entry (an auditor asks, with the subject)."""
        async with httpx.AsyncClient(timeout=10) as http:
            return await http.get(
                f"{self.audit}/ledger/entries/{event.id}",
                params={"subject": event.subject},
                headers=AS_AUDITOR,
            )

    async def keys(self) -> Any:
        async with httpx.AsyncClient(timeout=10) as http:
            return (await http.get(f"{self.audit}/ledger/keys")).json()


def _now() -> float:
    import time

    return time.monotonic()


async def register_app(
    auth_url: str, container: Container, consent: LiveConsent, redirect: str
) -> tuple[str, str]:
    """A confidential app registered over auth's HTTP API by a developer made through auth's
    service; auth's registration event handed to consent byte for byte. `(client_id, secret)`."""
    key = await new_developer_key(container.settings)  # the served container's loop is not ours
    since = await EventsSince(container.settings.kafka_bootstrap_servers).mark()
    body = app_body(redirect_uris=[redirect], allowed_scopes=["user.info.basic", "video.list"])
    async with httpx.AsyncClient(base_url=auth_url, timeout=30) as http:
        answer = await http.post("/v1/apps", json=body, headers=bearer(key))
    assert answer.status_code == 201, answer.text
    client_id: str = answer.json()["app"]["client_id"]
    secret: str = answer.json()["client_secret"]
    (event,) = await since.read(client_id, until=lambda found: len(found) >= 1, settle_s=0.2)
    await consent.forward(value=event.to_bytes(), key=event.key())
    await consent.until_app(client_id)
    return client_id, secret


@contextlib.asynccontextmanager
async def login_kit(
    servers: Servers, *, redirect: str, **overrides: Any
) -> AsyncIterator[LoginKit]:
    """Consent, audit and auth on free ports of 127.0.0.1, wired to each other as deployed
    (`overrides`: auth settings, e.g. another broker); then all torn down, databases dropped."""
    transfers = f"t-transfers-{uuid.uuid4().hex[:10]}"
    kafka: str = overrides.get("kafka_bootstrap_servers", servers.kafka)
    spec = TopicSpec(transfers, DOMAIN_PARTITIONS, 3_600_000, "test")
    await ensure_topics(bootstrap_servers=kafka, topics=[spec])
    auth_sock, consent_sock = free_socket(), free_socket()
    auth_url = f"http://127.0.0.1:{auth_sock.getsockname()[1]}"
    consent_url = f"http://127.0.0.1:{consent_sock.getsockname()[1]}"
    auth_jwks = f"{auth_url}/.well-known/jwks.json"
    audit = audit_settings(servers, ledger_topics=transfers, kafka_bootstrap_servers=kafka)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url)
    dropped = [audit.database_name]
    try:
        async with live_consent(
            servers,
            sock=consent_sock,
            issuer=consent_url,
            service_callers={"auth": {"jwks_url": auth_jwks}},
            user_token_issuer=auth_url,
            user_token_jwks="",
            user_token_jwks_url=auth_jwks,
            auth_callback_urls=f"{auth_url}/oauth/consent/callback",
        ) as consent:
            if kafka != servers.kafka:  # auth on another broker consumes consent's topic there
                events = TopicSpec(consent.settings.events_topic, DOMAIN_PARTITIONS, 3_600_000, "t")
                await ensure_topics(bootstrap_servers=kafka, topics=[events])
            values: dict[str, Any] = {
                "issuer": auth_url,
                "consent_url": consent_url,
                "consent_issuer": consent_url,
                "consent_jwks_url": f"{consent_url}/.well-known/jwks.json",
                "session_cookie_secure": True,
                "transfers_topic": transfers,
                "consent_events_topic": consent.settings.events_topic,
                **overrides,
            }
            settings = auth_settings(servers, **values)
            dropped.append(settings.database_name)
            container = bootstrap(settings)  # real codes, real recorder, consent over HTTP
            async with (
                live_server(create_audit(audit)) as audit_url,
                live_server(create_app(container=container), sock=auth_sock) as url,
            ):
                assert url == auth_url
                client_id, secret = await register_app(url, container, consent, redirect)
                yield LoginKit(
                    auth=url,
                    audit=audit_url,
                    consent=consent,
                    settings=settings,
                    container=container,
                    client_id=client_id,
                    client_secret=secret,
                    transfers_topic=transfers,
                )
    finally:
        for name in dropped:
            await mongo.drop_database(name)
        await mongo.close()
