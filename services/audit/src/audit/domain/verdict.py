"""Was a transfer covered by an active consent at its own time? Pure rules, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ConsentKind = Literal["granted", "renewed", "revoked", "invalidated"]
Reason = Literal["no_consent", "revoked", "invalidated", "scope_not_granted", "terms_mismatch"]


@dataclass(frozen=True, slots=True)
class ConsentFact:
    """One consent event for a (user, app): its kind, version and what it allowed."""

    consent_id: str
    version: int
    kind: ConsentKind
    at: datetime
    scopes: frozenset[str] = frozenset()
    terms_version: str | None = None


@dataclass(frozen=True, slots=True)
class TermsFact:
    """An app published terms of this version at this time."""

    terms_version: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TransferFact:
    """What a transfer claimed: the consent it ran under, the scopes and terms it used."""

    consent_id: str
    scopes_used: frozenset[str]
    terms_version: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Verdict:
    """Covered, or a violation with its reason."""

    covered: bool
    reason: Reason | None = None

    @classmethod
    def violation(cls, reason: Reason) -> Verdict:
        """A transfer that no active consent covered."""
        return cls(covered=False, reason=reason)


COVERED = Verdict(covered=True)


def outcome(verdict: Verdict) -> str:
    """A verdict as one word: `covered` or its reason."""
    return "covered" if verdict.covered else (verdict.reason or "no_consent")


def judge(
    transfer: TransferFact, *, consents: Iterable[ConsentFact], terms: Iterable[TermsFact]
) -> Verdict:
    """Judge by event times only (microseconds), so a replay reaches the same verdicts.

    Ties: a consent or terms event at the very time of the transfer counts as before it; among
    consent events the highest version is the latest (then the later time); among terms
    published at the same time the greatest version string.
    """
    history = [f for f in consents if f.consent_id == transfer.consent_id and f.at <= transfer.at]
    if not history:
        return Verdict.violation("no_consent")
    latest = max(history, key=lambda f: (f.version, f.at))
    if latest.kind == "revoked":
        return Verdict.violation("revoked")
    if latest.kind == "invalidated":
        return Verdict.violation("invalidated")
    if not transfer.scopes_used <= latest.scopes:
        return Verdict.violation("scope_not_granted")
    published = [t for t in terms if t.at <= transfer.at]
    current = (
        max(published, key=lambda t: (t.at, t.terms_version)).terms_version if published else None
    )
    if transfer.terms_version != latest.terms_version or (
        current is not None and current != latest.terms_version
    ):
        return Verdict.violation("terms_mismatch")
    return COVERED
