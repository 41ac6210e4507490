"""A judgement over one user's facts: which verdict changes are announced, and with which id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from audit.domain.verdict import ConsentFact, Verdict
from audit.service.judge import Judge, verdict_event_id
from audit.service.ports import TransferRow, UserFacts, VerdictState
from shared.events import parse
from shared.events.audit import VerdictCorrected, ViolationDetected

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GRANT = ConsentFact("c1", 1, "granted", NOW - timedelta(minutes=5), frozenset({"a"}), "t1")
REVOKE = ConsentFact("c1", 2, "revoked", NOW - timedelta(minutes=1))


def transfer(event_id: str, *, seconds_ago: float) -> TransferRow:
    data = {
        "transfer_id": f"tr_{event_id}",
        "user_key": "alice",
        "app_id": "app_1",
        "consent_id": "c1",
        "scopes_used": ["a"],
        "terms_version": "t1",
    }
    return TransferRow(event_id=event_id, data=data, at=NOW - timedelta(seconds=seconds_ago))


def user(consents: list[ConsentFact], verdicts: dict[str, VerdictState], **kw: Any) -> UserFacts:
    transfers = [transfer("e1", seconds_ago=30), transfer("e2", seconds_ago=120)]
    return UserFacts(
        user_key="alice",
        consents={"app_1": consents},
        transfers=transfers,
        verdicts=verdicts,
        end=3,
        judged=False,
        **kw,
    )


def judge() -> Judge:
    return Judge(facts=None, publisher=None)  # type: ignore[arg-type]


def test_first_verdicts_announce_violations_only() -> None:
    judgement = judge().judgement(user([GRANT, REVOKE], {}), {})
    assert judgement.verdicts == {
        "e1": VerdictState(Verdict.violation("revoked")),
        "e2": VerdictState(Verdict(covered=True)),
    }
    [event] = [parse(raw) for raw in judgement.outbox]
    assert isinstance(event.data, ViolationDetected)
    assert (event.data.transfer_id, event.data.reason) == ("tr_e1", "revoked")
    assert event.id == verdict_event_id("e1", changes=0, verdict=Verdict.violation("revoked"))


def test_a_late_revocation_corrects_a_covered_verdict_and_a_late_grant_clears_a_violation() -> None:
    before = {
        "e1": VerdictState(Verdict(covered=True)),  # judged before the revocation arrived
        "e2": VerdictState(Verdict.violation("no_consent"), changes=1),  # before the grant
    }
    judgement = judge().judgement(user([REVOKE, GRANT], before), {})
    events = {e.data.transfer_id: e for e in map(parse, judgement.outbox)}
    first, second = events["tr_e1"].data, events["tr_e2"].data
    assert isinstance(first, VerdictCorrected)
    assert isinstance(second, VerdictCorrected)
    assert (first.covered, first.reason, first.previous_reason, first.correction) == (
        False,
        "revoked",
        None,
        1,
    )
    assert (second.covered, second.reason, second.previous_reason, second.correction) == (
        True,
        None,
        "no_consent",
        2,
    )
    assert judgement.verdicts["e2"] == VerdictState(Verdict(covered=True), changes=2)


def test_nothing_changed_announces_nothing_but_a_dead_claimers_events_go_out_again() -> None:
    settled = {
        "e1": VerdictState(Verdict.violation("revoked")),
        "e2": VerdictState(Verdict(covered=True)),
    }
    assert judge().judgement(user([GRANT, REVOKE], settled), {}).outbox == []
    carried = judge().judgement(user([GRANT, REVOKE], settled, unsent=[b"{}"]), {})
    assert carried.outbox == [b"{}"]


def test_ids_differ_by_change_and_outcome_and_repeat_for_the_same() -> None:
    covered, revoked = Verdict(covered=True), Verdict.violation("revoked")
    ids = {
        verdict_event_id("e1", changes=c, verdict=v) for c in (0, 1, 2) for v in (covered, revoked)
    }
    assert len(ids) == 6
    assert verdict_event_id("e1", changes=1, verdict=covered) == verdict_event_id(
        "e1", changes=1, verdict=covered
    )
