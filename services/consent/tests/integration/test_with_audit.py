"""Cross-service: every consent event reaches the audit ledger, and the audit's verdicts on a
scripted timeline of transfers agree with what the consent check answered for each.

The audit app runs in-process as `services/audit/tests` runs it, mirroring this test's own
topics (`ledger_topics`): the consent events topic the consent app publishes to, the auth topic
both consume, and a transfer topic where this test plays the data path (check, then record).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from audit.main import create_app as create_audit
from audit_testing import AuditHarness, audit_settings
from audit_testing import user_token as audit_user_token
from consent_testing import ConsentHarness, as_user, new_app, new_user, terms_updated
from kits_testing import Servers, eventually, read_topic
from shared.events import make_event, parse
from shared.events.envelope import CONTENT_TYPE
from shared.events.transfer import TransferRecorded
from shared.topics import DOMAIN_PARTITIONS

pytestmark = pytest.mark.integration


@pytest.fixture
async def transfer_topic(
    make_topic: Callable[..., Awaitable[str]], unique: Callable[[str], str]
) -> str:
    return await make_topic(unique("t-transfer-events"), partitions=DOMAIN_PARTITIONS)


@pytest.fixture
async def audit(
    consent: ConsentHarness,
    transfer_topic: str,
    servers: Servers,
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> AsyncIterator[AuditHarness]:
    topics = ",".join((consent.events_topic, consent.auth_topic, transfer_topic))
    # The judge waits for this test's own consent and auth topics (AUDIT_JUDGE_*_TOPICS).
    settings = audit_settings(
        servers,
        ledger_topics=topics,
        judge_consent_topics=consent.events_topic,
        judge_terms_topics=consent.auth_topic,
    )
    app = create_audit(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://audit"
        ) as client,
    ):
        yield AuditHarness(container=app.state.container, http=client)
    await mongo_client.drop_database(settings.database_name)


async def test_the_audit_agrees_with_the_consent_check(
    consent: ConsentHarness, audit: AuditHarness, transfer_topic: str, servers: Servers
) -> None:
    user, app = new_user(), new_app()
    answered: dict[str, bool] = {}  # transfer event id -> did the check allow it

    async def data_path(label: str) -> None:
        """What auth or sound does: ask the check, then record the transfer (here, always,
        to see the audit flag the ones the check refused)."""
        answer = await consent.check(user, app)
        latest = await consent.container.consents.latest(user_key=user, app_id=app)
        assert latest is not None, label
        event = make_event(
            _transfer(user, app, latest.consent_id, latest.version, answer), source="/t-auth"
        )
        await consent.container.runtime.publisher.publish_raw(
            topic=transfer_topic,
            value=event.to_bytes(),
            key=event.key(),
            headers={"content-type": CONTENT_TYPE},
        )
        answered[event.id] = answer["allowed"]

    await consent.register(app)
    first = await consent.container.consents.grant(
        user_key=user,
        app_id=app,
        scopes=("user.info.basic",),
        purpose="login",
        pairwise_subject="ps_a",
    )
    assert first.consent is not None
    await data_path("granted")
    await consent.send_auth(terms_updated(app, new="t2"))
    await eventually(lambda: _reason_is(consent, user, app, "invalidated"))
    await data_path("after the terms change")
    await consent.container.consents.grant(
        user_key=user,
        app_id=app,
        scopes=("user.info.basic",),
        purpose="login",
        pairwise_subject="ps_a",
    )
    await data_path("renewed")
    revoked = await consent.http.post(
        f"/v1/me/consents/{first.consent.consent_id}/revoke", headers=as_user(user)
    )
    assert revoked.status_code == 200
    await data_path("revoked")
    assert list(answered.values()) == [True, False, True, False]

    rows = await _judged(audit, user, len(answered))
    verdicts = {r["event_id"]: r["verdict"] for r in rows}
    assert {eid: verdicts[eid] == "covered" for eid in answered} == answered

    records = await read_topic(servers.kafka, consent.events_topic, count=4)
    consent_ids = [parse(r.value).id for r in records]
    assert len(consent_ids) == 4  # granted, invalidated, renewed, revoked
    for event_id in consent_ids:
        assert await audit.entry_stored(event_id), event_id


async def _reason_is(consent: ConsentHarness, user: str, app: str, reason: str) -> bool:
    return bool((await consent.check(user, app))["reason"] == reason)


async def _judged(audit: AuditHarness, user: str, count: int) -> list[dict[str, Any]]:
    holder: dict[str, Any] = {}

    async def done() -> bool:
        response = await audit.http.get(
            "/reports/me", headers={"Authorization": f"Bearer {audit_user_token(user)}"}
        )
        assert response.status_code == 200, response.text
        holder["rows"] = response.json()["transfers"]
        return len(holder["rows"]) == count and all(
            r["verdict"] != "pending" for r in holder["rows"]
        )

    try:
        await eventually(done, timeout_s=30)
    except TimeoutError:
        raise AssertionError(holder) from None
    rows: list[dict[str, Any]] = holder["rows"]
    return rows


def _transfer(
    user: str, app: str, consent_id: str, version: int, answer: dict[str, Any]
) -> TransferRecorded:
    return TransferRecorded(
        transfer_id=f"tr_{uuid.uuid4().hex[:12]}",
        app_id=app,
        pairwise_subject="ps_a",
        user_key=user,
        consent_id=consent_id,
        consent_version=version,
        terms_version=answer["terms_version"] or "t1",
        scopes_used=("user.info.basic",),
        fields_released=("display_name",),
        purpose="login",
        request_id=f"rq_{uuid.uuid4().hex[:8]}",
        released_at=datetime.now(UTC),
        digest_sha256="ab" * 32,
    )
