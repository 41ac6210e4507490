"""The consent record and its changes: pure rules, no storage, no wire format.

A consent belongs to one user and one app. Every change makes a new version (1, 2, ...), kept
as its own document elsewhere; this module only says which change is allowed and what it gives.
One (user, app) pair holds at most one live consent at a time: a grant on an active or
invalidated consent renews it (same id, next version); a grant after a revocation starts a new
consent whose id follows from the revoked one's, so every version of every consent of a pair
can be found by reading ids forward, never by searching.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

Status = Literal["active", "revoked", "invalidated"]
Change = Literal["granted", "revoked", "invalidated", "renewed"]
RevokeReason = Literal["user", "user_deleted", "app_removed"]


class ConsentError(Exception):
    """A change the rules do not allow."""


class ScopesNotAllowed(ConsentError):
    """The app may not ask for some of these scopes."""


class TermsChanged(ConsentError):
    """The terms shown to the user are not the app's current terms."""


@dataclass(frozen=True, slots=True)
class Terms:
    """What an app declares and the user is shown: terms version, recipients, retention."""

    version: str
    recipients: tuple[str, ...]
    retention_days: int


@dataclass(frozen=True, slots=True)
class Consent:
    """One version of a consent record."""

    consent_id: str
    user_key: str
    app_id: str
    version: int
    status: Status
    change: Change
    scopes: tuple[str, ...]
    purpose: str
    terms: Terms
    pairwise_subject: str
    granted_at: datetime
    changed_at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The check's answer: allowed, and under which consent version (or why not)."""

    allowed: bool
    reason: str
    consent_id: str | None = None
    version: int | None = None
    terms_version: str | None = None


def first_consent_id(*, user_key: str, app_id: str) -> str:
    """The id of a pair's first consent."""
    return "cn_" + hashlib.sha256(f"consent\0{user_key}\0{app_id}".encode()).hexdigest()[:32]


def next_consent_id(previous: str) -> str:
    """The id of the consent that follows a revoked one (a fresh grant after a revocation)."""
    return "cn_" + hashlib.sha256(f"next\0{previous}".encode()).hexdigest()[:32]


def grant(
    current: Consent | None,
    *,
    user_key: str,
    app_id: str,
    scopes: tuple[str, ...],
    purpose: str,
    terms: Terms,
    pairwise_subject: str,
    at: datetime,
) -> Consent | None:
    """The version a grant writes (a new consent, or a renewal); None when nothing changes."""
    scopes = tuple(sorted(set(scopes)))
    if current is None or current.status == "revoked":
        consent_id = (
            first_consent_id(user_key=user_key, app_id=app_id)
            if current is None
            else next_consent_id(current.consent_id)
        )
        return Consent(
            consent_id=consent_id,
            user_key=user_key,
            app_id=app_id,
            version=1,
            status="active",
            change="granted",
            scopes=scopes,
            purpose=purpose,
            terms=terms,
            pairwise_subject=pairwise_subject,
            granted_at=at,
            changed_at=at,
        )
    same = (current.scopes, current.purpose, current.terms) == (scopes, purpose, terms)
    if current.status == "active" and same and current.pairwise_subject == pairwise_subject:
        return None  # the user agreed to exactly this already: one effect
    return replace(
        current,
        version=current.version + 1,
        status="active",
        change="renewed",
        scopes=scopes,
        purpose=purpose,
        terms=terms,
        pairwise_subject=pairwise_subject,
        changed_at=at,
        reason="",
    )


def revoke(current: Consent, *, reason: RevokeReason, at: datetime) -> Consent | None:
    """The version a revocation writes; None for one already revoked (one effect)."""
    if current.status == "revoked":
        return None
    return replace(
        current,
        version=current.version + 1,
        status="revoked",
        change="revoked",
        changed_at=at,
        reason=reason,
    )


def invalidate(current: Consent, *, new_terms_version: str, at: datetime) -> Consent | None:
    """The version a terms change writes; None unless the consent is active under other terms."""
    if current.status != "active" or current.terms.version == new_terms_version:
        return None
    return replace(
        current,
        version=current.version + 1,
        status="invalidated",
        change="invalidated",
        changed_at=at,
        reason=new_terms_version,
    )


def check_request(*, scopes: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    """Refuse a grant of scopes the app was not registered for."""
    extra = sorted(set(scopes) - set(allowed))
    if extra:
        raise ScopesNotAllowed(f"the app may not ask for {', '.join(extra)}")
    if not scopes:
        raise ScopesNotAllowed("a consent names at least one scope")


def decide(
    consent: Consent | None, *, scopes: tuple[str, ...], current_terms: str | None
) -> Verdict:
    """Does this consent cover these scopes at the app's current terms version?"""
    if consent is None:
        return Verdict(allowed=False, reason="no_consent")
    refusal = _refusal(consent, scopes=scopes, current_terms=current_terms)
    return Verdict(
        allowed=refusal is None,
        reason=refusal or "covered",
        consent_id=consent.consent_id,
        version=consent.version,
        terms_version=current_terms if refusal is None else None,
    )


def _refusal(consent: Consent, *, scopes: tuple[str, ...], current_terms: str | None) -> str | None:
    if consent.status != "active":
        return consent.status
    if current_terms is None:
        return "unknown_app"
    if consent.terms.version != current_terms:
        return "terms_changed"
    if not scopes or not set(scopes) <= set(consent.scopes):
        return "scope_not_granted"
    return None
