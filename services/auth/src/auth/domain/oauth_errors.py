"""OAuth 2.0 error answers (RFC 6749 5.2, RFC 7009 2.2.1): a code, a safe description, a status."""

from __future__ import annotations


class OAuthError(Exception):
    """A refusal the token, revocation and introspection endpoints answer as RFC 6749 5.2 JSON."""

    status = 400

    def __init__(self, error: str, description: str, *, status: int | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description
        if status is not None:
            self.status = status


def invalid_request(description: str) -> OAuthError:
    """A missing, repeated, malformed or oversize parameter."""
    return OAuthError("invalid_request", description)


def invalid_client(description: str) -> OAuthError:
    """Client authentication failed (401 with WWW-Authenticate, RFC 6749 5.2)."""
    return OAuthError("invalid_client", description, status=401)


def invalid_grant(description: str) -> OAuthError:
    """The code or refresh token is unknown, used, expired, revoked or bound elsewhere."""
    return OAuthError("invalid_grant", description)


def invalid_scope(description: str) -> OAuthError:
    """The requested scope exceeds what was granted."""
    return OAuthError("invalid_scope", description)


def unsupported_grant_type(grant_type: str) -> OAuthError:
    """Only authorization_code and refresh_token are served (RFC 9700: no password, implicit)."""
    shown = grant_type if len(grant_type) <= 64 and grant_type.isprintable() else "(unreadable)"
    return OAuthError("unsupported_grant_type", f"grant_type {shown!r} is not supported")


def unauthorized_client(description: str) -> OAuthError:
    """The client may not use this grant."""
    return OAuthError("unauthorized_client", description)


def temporarily_unavailable(description: str) -> OAuthError:
    """A dependency (consent, the event log) did not answer in time: fail closed, 503."""
    return OAuthError("temporarily_unavailable", description, status=503)
