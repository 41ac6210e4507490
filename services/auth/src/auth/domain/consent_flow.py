"""Auth's side of the consent hand-over (consent README "Hand-over"): the flow it keeps while
the browser is at the consent screen, and the checks a verdict must pass before a code.

The flow is stored under a random id that is the `state` towards consent; it holds the whole
authorization request, the user, the id of the one challenge issued for it and the SHA-256 of
the nonce in the browser's flow cookie (never the nonce itself). It is claimed once.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from auth.domain.authorize_rules import AuthorizeRequest


class VerdictRefused(ValueError):
    """A verdict that cannot be used; `status` is the error page's HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Flow:
    """One authorization waiting for the user's answer at the consent screen."""

    flow_id: str  # the `state` sent to consent
    challenge_id: str  # the `jti` of the challenge signed for this flow
    nonce_sha256: str  # hex SHA-256 of the nonce in the browser's flow cookie
    request: AuthorizeRequest
    user_key: str
    pairwise_subject: str
    purpose: str
    auth_time: int
    created_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verified claims of consent's signed answer."""

    user_key: str  # `sub`
    challenge_id: str  # `challenge`
    nonce_sha256: str
    state: str
    allowed: bool
    consent_id: str | None = None
    consent_version: int | None = None
    terms_version: str | None = None
    scopes: tuple[str, ...] = ()


def nonce_hash(nonce: str) -> str:
    """Hex SHA-256 of a flow cookie's nonce."""
    return hashlib.sha256(nonce.encode()).hexdigest()


def purpose_of(app_name: str) -> str:
    """What the user is asked to allow, in words (the consent's and the transfers' `purpose`)."""
    return f"Log in to {app_name} and share the data you allow"


def check_verdict(verdict: Verdict, *, flow: Flow, cookie_nonce: str | None, now: float) -> None:
    """Refuse (VerdictRefused) a verdict that is not the answer to this flow's challenge, for
    this user, in this browser, in time."""
    if verdict.challenge_id != flow.challenge_id or verdict.user_key != flow.user_key:
        raise VerdictRefused(400, "this consent answer is not for this request")
    if verdict.nonce_sha256 != flow.nonce_sha256:
        raise VerdictRefused(400, "this consent answer is not for this request")
    if not cookie_nonce or not hmac.compare_digest(nonce_hash(cookie_nonce), flow.nonce_sha256):
        raise VerdictRefused(403, "this sign-in was started in another browser; start again")
    if now >= flow.expires_at:
        raise VerdictRefused(410, "this sign-in took too long and expired; start again")
    if verdict.allowed:
        if not verdict.consent_id or not verdict.consent_version or verdict.terms_version is None:
            raise VerdictRefused(400, "this consent answer is incomplete")
        if tuple(sorted(verdict.scopes)) != flow.request.consent_scopes:
            raise VerdictRefused(400, "this consent answer covers other scopes than asked")
