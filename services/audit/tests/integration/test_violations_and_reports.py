"""The violation detector and the per-user access report, fed through Kafka."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from joserfc.jwk import OKPKey

from audit_events import granted, invalidated, revoked, terms_updated, transfer
from audit_testing import AuditHarness, Publish, at, new_user, user_token
from kits_testing import read_topic
from shared.events import parse
from shared.events.audit import ViolationDetected
from shared.topics import AUDIT_EVENTS

pytestmark = pytest.mark.integration
Wait = Callable[..., Awaitable[None]]


async def report(audit: AuditHarness, user: str) -> dict[str, Any]:
    response = await audit.http.get(
        "/reports/me", headers={"Authorization": f"Bearer {user_token(user)}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def judged(audit: AuditHarness, user: str, count: int, wait_until: Wait) -> list[Any]:
    holder: dict[str, Any] = {}

    async def done() -> bool:
        holder["rows"] = (await report(audit, user))["transfers"]
        return len(holder["rows"]) == count and all(
            r["verdict"] != "pending" for r in holder["rows"]
        )

    await wait_until(done, timeout_s=30)
    rows: list[Any] = holder["rows"]
    return rows


async def test_transfers_are_judged_against_the_consent_timeline_at_their_own_time(
    audit: AuditHarness, publish: Publish, wait_until: Wait, servers: Any
) -> None:
    user, app, other_app = new_user(), f"app_{uuid.uuid4().hex[:8]}", f"app_{uuid.uuid4().hex[:8]}"
    await publish("consent", granted(user, app, consent_id="c_a"))
    await publish("consent", granted(user, other_app, consent_id="c_b"))
    covered = await publish("auth", transfer(user, app, consent_id="c_a", when=at()))
    await publish("consent", revoked(user, app, consent_id="c_a"))
    after_revoke = await publish("auth", transfer(user, app, consent_id="c_a", when=at()))
    await publish("auth", terms_updated(other_app, new="t2"))
    after_terms = await publish("sound", transfer(user, other_app, consent_id="c_b", when=at()))
    await publish("consent", invalidated(user, other_app, consent_id="c_b"))
    after_invalid = await publish("sound", transfer(user, other_app, consent_id="c_b", when=at()))
    before_grant = await publish("auth", transfer(user, app, consent_id="c_a", when=at(3600)))
    never = await publish("auth", transfer(user, app, consent_id="c_none", when=at()))

    rows = {r["event_id"]: r for r in await judged(audit, user, 6, wait_until)}
    verdicts = {eid: (r["verdict"], r["violation_reason"]) for eid, r in rows.items()}
    assert verdicts[covered.id] == ("covered", None)
    assert verdicts[after_revoke.id] == ("violation", "revoked")
    assert verdicts[after_terms.id] == ("violation", "terms_mismatch")
    assert verdicts[after_invalid.id] == ("violation", "invalidated")
    assert verdicts[before_grant.id] == ("violation", "no_consent")
    assert verdicts[never.id] == ("violation", "no_consent")
    row = rows[covered.id]
    assert row["app_id"] == app
    assert row["fields_released"] == ["display_name", "avatar_url"]
    assert (row["consent_id"], row["terms_version"]) == ("c_a", "t1")

    published = await read_topic(
        servers.kafka, AUDIT_EVENTS, count=1, until=lambda records: _violations(records, user) >= 5
    )
    mine = [
        e
        for e in _events(published)
        if isinstance(e.data, ViolationDetected) and e.data.user_key == user
    ]
    assert len({e.id for e in mine}) == len(mine)  # judge rounds went on: each id once
    found = {e.data.transfer_id: e.data.reason for e in mine}
    assert sorted(found.values()) == sorted(
        ["revoked", "terms_mismatch", "invalidated", "no_consent", "no_consent"]
    )


async def test_a_scope_not_granted_is_a_violation(
    audit: AuditHarness, publish: Publish, wait_until: Wait
) -> None:
    user, app = new_user(), f"app_{uuid.uuid4().hex[:8]}"
    await publish("consent", granted(user, app, scopes=("user.info.basic",)))
    sent = await publish("auth", transfer(user, app, scopes=("video.list",), when=at()))
    [row] = await judged(audit, user, 1, wait_until)
    assert (row["event_id"], row["violation_reason"]) == (sent.id, "scope_not_granted")


async def test_only_the_user_reads_their_report(
    audit: AuditHarness, publish: Publish, wait_until: Wait
) -> None:
    alice, bob, app = new_user(), new_user(), f"app_{uuid.uuid4().hex[:8]}"
    await publish("consent", granted(alice, app))
    await publish("auth", transfer(alice, app, when=at()))
    await judged(audit, alice, 1, wait_until)
    assert (await report(audit, bob))["transfers"] == []

    stranger_key = OKPKey.generate_key("Ed25519", parameters={"kid": "test-user-token-key"})
    cases = {
        "no token": {},
        "not bearer": {"Authorization": f"Basic {user_token(alice)}"},
        "garbage": {"Authorization": "Bearer not.a.token"},
        "signed by someone else": {
            "Authorization": f"Bearer {user_token(alice, key=stranger_key)}"
        },
        "expired": {"Authorization": f"Bearer {user_token(alice, exp=1)}"},
        "wrong audience": {"Authorization": f"Bearer {user_token(alice, aud='third-party')}"},
        "wrong issuer": {"Authorization": f"Bearer {user_token(alice, iss='https://evil')}"},
    }
    for name, headers in cases.items():
        response = await audit.http.get("/reports/me", headers=headers)
        assert response.status_code == 401, name
        assert response.json()["detail"], name


def _events(records: list[Any]) -> list[Any]:
    out = []
    for record in records:
        try:
            out.append(parse(record.value))
        except ValueError:
            continue
    return out


def _violations(records: list[Any], user: str) -> int:
    return sum(
        1
        for e in _events(records)
        if isinstance(e.data, ViolationDetected) and e.data.user_key == user
    )
