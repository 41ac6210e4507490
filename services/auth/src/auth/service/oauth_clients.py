"""Client authentication at the token, revocation and introspection endpoints (RFC 6749 2.3).

Confidential apps use `client_secret_basic` or `client_secret_post` (one method per request,
RFC 6749 2.3); a public app identifies itself with `client_id` alone and relies on PKCE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from auth.domain import oauth_errors as oe
from auth.domain.apps import App


class AppLookup(Protocol):
    """The registry calls client authentication needs (`AppRegistry`)."""

    async def get(self, client_id: str) -> App | None:
        """The committed app, or None."""
        ...

    async def authenticate(self, client_id: str, secret: str) -> App | None:
        """The confidential app if `secret` is its secret, else None."""
        ...


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presented: Basic credentials, and the form's client_id / client_secret."""

    basic: tuple[str, str] | None
    form_id: str | None
    form_secret: str | None


async def authenticate_client(
    apps: AppLookup, credentials: Credentials, *, allow_public: bool
) -> App:
    """The calling app; invalid_client (401) when unauthenticated, invalid_request when two
    methods are mixed. `allow_public=False` (introspection) requires a secret."""
    basic, form_id, form_secret = credentials.basic, credentials.form_id, credentials.form_secret
    if basic is not None:
        if form_secret is not None or (form_id is not None and form_id != basic[0]):
            raise oe.invalid_request("use one client authentication method, not two")
        return await _confidential(apps, *basic)
    if form_secret is not None:
        if not form_id:
            raise oe.invalid_client("client_secret without client_id")
        return await _confidential(apps, form_id, form_secret)
    if not form_id:
        raise oe.invalid_client("client authentication required")
    app = await apps.get(form_id)
    if app is None or app.confidential or not allow_public:
        raise oe.invalid_client("client authentication required")
    return app


async def _confidential(apps: AppLookup, client_id: str, secret: str) -> App:
    if not client_id or not secret or len(client_id) > 200 or len(secret) > 500:
        raise oe.invalid_client("client authentication failed")
    app = await apps.authenticate(client_id, secret)
    if app is None:
        raise oe.invalid_client("client authentication failed")
    return app
