"""What a user allowed an app in one authorization, as the OAuth server carries it from the
authorize step to the code, the token family and every data request (pure data, no storage).

The contract between the OAuth pieces (README "OAuth 2.0 and OpenID Connect"): the authorize
flow builds a `Grant` once the consent check or the consent screen allowed it, the code store
binds it to the redirect URI and the PKCE challenge, the token endpoint turns it into a token
family, and the data API gets it back from an access token as an `AccessGrant`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Grant:
    """One user's authorization of one app, under one consent version."""

    client_id: str
    user_key: str  # internal: never in a token, a response or an app-visible field
    pairwise_subject: str  # the app-facing id (`sub`, `open_id`)
    scopes: tuple[str, ...]  # granted, sorted; may include the protocol scope `openid`
    consent_id: str
    consent_version: int
    terms_version: str
    purpose: str  # as the user saw it (the transfer record's `purpose`)
    auth_time: int  # when the user logged in (Unix seconds; OIDC `auth_time`)
    nonce: str | None = None  # the OIDC `nonce` of the authorization request


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """A verified, live access token: who and what it stands for."""

    token_id: str  # the access token's `jti`
    family_id: str  # the refresh family the token belongs to (revoked together)
    grant: Grant
    issued_at: int
    expires_at: int


class InvalidAccessToken(ValueError):
    """Not a live access token for this resource: malformed, forged, expired, for another
    audience, or of a revoked family. `reason` is safe to show the app."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ConsentAnswer:
    """The consent service's answer to `POST /v1/checks` (consent README "The check")."""

    allowed: bool
    reason: str  # `covered`, or why not (`revoked`, `terms_changed`, ...)
    consent_id: str | None = None
    version: int | None = None
    terms_version: str | None = None


class ConsentUnavailable(RuntimeError):
    """The consent service did not answer in time: fail closed (503), never allow."""
