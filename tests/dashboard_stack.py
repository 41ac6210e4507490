"""Auth, the real consent service and the real audit on live ports, wired as `make up` wires
them, for the privacy dashboard's tests (HTTP client or browser).

The audit mirrors consent's own test topic and a transfer topic of the test's own, verifies
user tokens against auth's JWKS and lets auth's origin read the ledger over CORS. Transfers
reach the audit as auth's data API records them: `transfer.recorded.v1` on the transfer topic
(`Dashboard.record`), here naming the real consent the user gave on the real consent screen.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from oauth_stack import Stack, oauth_stack
from pymongo import AsyncMongoClient

from audit.main import create_app as create_audit
from audit_events import transfer
from audit_testing import at, audit_settings
from kits_browser import free_socket, live_server
from kits_testing import Servers, eventually
from shared.events import CloudEvent, make_event
from shared.kafka.broker import ensure_topics, make_broker
from shared.kafka.publisher import DurablePublisher
from shared.settings import ServiceSettings
from shared.topics import DOMAIN_PARTITIONS, TopicSpec


@dataclass
class DashboardStack:
    """The three services serving, and the test's way to record transfers."""

    stack: Stack
    audit: str
    transfer_topic: str
    publisher: DurablePublisher

    @property
    def auth(self) -> str:
        return self.stack.auth

    async def record(
        self, *, user_key: str, consent: dict[str, Any], terms: str | None = None
    ) -> CloudEvent[Any]:
        """A transfer of the user's data to the consent's app, as auth's data API records it
        (`terms`: another terms version than the consent's, which the audit flags)."""
        data = transfer(
            user_key,
            consent["app_id"],
            when=at(),
            consent_id=consent["consent_id"],
            version=consent["version"],
            terms=terms or consent["terms_version"],
            scopes=("user.info.basic",),
        )
        event = make_event(data, source="/t-dashboard")
        await self.publisher.publish_raw(
            topic=self.transfer_topic, value=event.to_bytes(), key=event.key(), headers={}
        )
        return event

    async def consents(self, token: str) -> list[dict[str, Any]]:
        """The user's consents, from consent itself."""
        async with httpx.AsyncClient(base_url=self.stack.consent.url, timeout=20) as http:
            answer = await http.get("/v1/me/consents", headers=_bearer(token))
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["consents"]
        return found

    async def judged_and_covered(self, token: str, events: list[CloudEvent[Any]]) -> None:
        """Wait until the audit judged every event and a signed checkpoint covers each."""
        ids = {e.id for e in events}
        last: dict[str, Any] = {}

        async def ready() -> bool:
            async with httpx.AsyncClient(base_url=self.audit, timeout=10) as http:
                answer = await http.get("/reports/me", headers=_bearer(token))
                last["report"] = (answer.status_code, answer.text[:2000])
                report = answer.json()
                rows = [r for r in report.get("transfers", []) if r["event_id"] in ids]
                if len(rows) < len(ids) or any(r["verdict"] == "pending" for r in rows):
                    return False
                for event in events:
                    entry = await http.get(
                        f"/ledger/entries/{event.id}",
                        params={"subject": event.subject},
                        headers=_bearer(token),
                    )
                    last["entry"] = (entry.status_code, entry.text[:300])
                    if entry.status_code != 200:
                        return False
            return True

        try:
            await eventually(ready, timeout_s=60)
        except TimeoutError as exc:
            raise AssertionError(f"the audit never judged and covered them: {last}") from exc


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def dashboard_stack(
    servers: Servers, *, redirect_uris: tuple[str, ...], secure_cookies: bool
) -> AsyncIterator[DashboardStack]:
    """Auth + consent (`oauth_stack`, one app registered) + the audit, then all torn down."""
    audit_sock = free_socket()
    audit_url = f"http://127.0.0.1:{audit_sock.getsockname()[1]}"
    transfer_topic = f"t-dash-transfers-{uuid.uuid4().hex[:8]}"
    spec = TopicSpec(transfer_topic, DOMAIN_PARTITIONS, 3_600_000, "test")
    await ensure_topics(bootstrap_servers=servers.kafka, topics=[spec])
    broker = make_broker(
        ServiceSettings(environment="development", kafka_bootstrap_servers=servers.kafka)
    )
    await broker.start()
    async with oauth_stack(
        servers,
        redirect_uris=redirect_uris,
        secure_cookies=secure_cookies,
        auth_overrides={"audit_url": audit_url},
    ) as stack:
        # The judge waits until the ledger group has read this test's consent topic past a
        # transfer's time (audit README "Violations"); no terms topic here, so none to wait for.
        consent_topic = stack.consent.settings.events_topic
        settings = audit_settings(
            servers,
            ledger_topics=f"{consent_topic},{transfer_topic}",
            judge_consent_topics=consent_topic,
            judge_terms_topics="",
            cors_origins=stack.auth,
            user_token_issuer=stack.auth,
            user_token_jwks="",
            user_token_jwks_url=f"{stack.auth}/.well-known/jwks.json",
        )
        try:
            async with live_server(create_audit(settings), sock=audit_sock) as url:
                assert url == audit_url
                yield DashboardStack(
                    stack=stack,
                    audit=url,
                    transfer_topic=transfer_topic,
                    publisher=DurablePublisher(broker=broker, deadline_s=10),
                )
        finally:
            await broker.stop()
            client: AsyncMongoClient[dict[str, Any]]
            async with AsyncMongoClient(servers.mongodb_url) as client:
                await client.drop_database(settings.database_name)
