"""The browser hand-over between auth and the consent screen: what a challenge must say.

Auth sends the browser to the screen with a challenge: its signed statement of who the user
is, which app asks for which scopes, where to send the answer, and the SHA-256 of a nonce it
also put in a cookie of the browser that started the flow. The screen shows and records only
for that browser, once, before the challenge expires; the answer goes back as a verdict signed
by consent. The wire format (JWS) is in `adapters/jose_handover.py`; the README has it all.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

MAX_LIFETIME_S = 300
MAX_SCOPES = 20
_SCOPE = re.compile(r"^[a-z][a-z0-9_.:]{0,63}$")
_NONCE_HASH = re.compile(r"^[0-9a-f]{64}$")


class HandoverRefused(Exception):
    """The challenge cannot be used; `kind` names why, for the error page and its status."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = (
            kind  # forged | expired | reused | other-browser | unknown-app | malformed | changed
        )


@dataclass(frozen=True, slots=True)
class Challenge:
    """What auth asks the user to consent to (the verified claims of its challenge)."""

    challenge_id: str
    issuer: str  # auth, which signed it: the audience of the verdict
    user_key: str
    app_id: str
    pairwise_subject: str
    scopes: tuple[str, ...]
    purpose: str
    return_to: str
    state: str
    nonce_sha256: str
    issued_at: int
    expires_at: int

    def check(self, *, now: float, allowed_returns: frozenset[str]) -> None:
        """Refuse a challenge that is expired, too long-lived, malformed or returns elsewhere."""
        if self.expires_at - self.issued_at > MAX_LIFETIME_S:
            raise HandoverRefused("malformed", "the challenge lives longer than 5 minutes")
        if now >= self.expires_at:
            raise HandoverRefused("expired", "this consent request has expired")
        if not self.scopes or len(self.scopes) > MAX_SCOPES:
            raise HandoverRefused("malformed", "the challenge names no scopes or too many")
        if not all(_SCOPE.match(s) for s in self.scopes) or len(set(self.scopes)) != len(
            self.scopes
        ):
            raise HandoverRefused("malformed", "the challenge's scopes are not scope names")
        if not _NONCE_HASH.match(self.nonce_sha256):
            raise HandoverRefused("malformed", "the challenge's nonce hash is not SHA-256 hex")
        if self.return_to not in allowed_returns:
            raise HandoverRefused(
                "malformed", "the challenge returns to an address consent does not know"
            )

    def bound_to(self, nonce: str | None) -> None:
        """Refuse unless the browser holds the nonce the challenge was made for."""
        digest = hashlib.sha256((nonce or "").encode()).hexdigest()
        if not nonce or not hmac.compare_digest(digest, self.nonce_sha256):
            raise HandoverRefused(
                "other-browser", "this consent request was started in another browser"
            )


@dataclass(frozen=True, slots=True)
class Decision:
    """The user's answer to a challenge, and what was recorded for an allow."""

    challenge: Challenge
    allowed: bool
    consent_id: str | None = None
    consent_version: int | None = None
    terms_version: str | None = None
