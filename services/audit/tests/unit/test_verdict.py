"""The consent rules, by event time only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audit.domain.verdict import COVERED, ConsentFact, TermsFact, TransferFact, Verdict, judge

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


GRANT = ConsentFact("c1", 1, "granted", at(0), frozenset({"a", "b"}), "t1")


def transfer(
    minutes: int,
    *,
    scopes: frozenset[str] = frozenset({"a"}),
    terms: str = "t1",
    consent: str = "c1",
) -> TransferFact:
    return TransferFact(consent_id=consent, scopes_used=scopes, terms_version=terms, at=at(minutes))


@pytest.mark.parametrize(
    ("facts", "terms", "tf", "expected"),
    [
        ([GRANT], [], transfer(1), COVERED),
        ([GRANT], [], transfer(-1), Verdict.violation("no_consent")),
        ([GRANT], [], transfer(1, consent="c2"), Verdict.violation("no_consent")),
        (
            [GRANT, ConsentFact("c1", 2, "revoked", at(5))],
            [],
            transfer(6),
            Verdict.violation("revoked"),
        ),
        ([GRANT, ConsentFact("c1", 2, "revoked", at(5))], [], transfer(4), COVERED),
        (
            [GRANT, ConsentFact("c1", 2, "invalidated", at(5), terms_version="t1")],
            [],
            transfer(6),
            Verdict.violation("invalidated"),
        ),
        ([GRANT], [], transfer(1, scopes=frozenset({"c"})), Verdict.violation("scope_not_granted")),
        ([GRANT], [], transfer(1, terms="t0"), Verdict.violation("terms_mismatch")),
        ([GRANT], [TermsFact("t2", at(3))], transfer(4), Verdict.violation("terms_mismatch")),
        ([GRANT], [TermsFact("t2", at(3))], transfer(2), COVERED),
        (
            [
                GRANT,
                ConsentFact("c1", 2, "revoked", at(5)),
                ConsentFact("c1", 3, "renewed", at(7), frozenset({"a"}), "t2"),
            ],
            [TermsFact("t2", at(6))],
            transfer(8, terms="t2"),
            COVERED,
        ),
    ],
)
def test_judge(
    facts: list[ConsentFact], terms: list[TermsFact], tf: TransferFact, expected: Verdict
) -> None:
    assert judge(tf, consents=facts, terms=terms) == expected


def test_the_verdict_does_not_depend_on_arrival_order() -> None:
    facts = [ConsentFact("c1", 2, "revoked", at(5)), GRANT]
    assert judge(transfer(6), consents=facts, terms=[]) == Verdict.violation("revoked")
    assert judge(transfer(6), consents=list(reversed(facts)), terms=[]) == Verdict.violation(
        "revoked"
    )
