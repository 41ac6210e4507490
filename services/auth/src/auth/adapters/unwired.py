"""Fail-closed stand-ins for ports other parts of issue 17 implement (access tokens: H1; the
consent check: H2), so the data API refuses everything until the real adapters are wired."""

from __future__ import annotations

from auth.domain.grants import AccessGrant, ConsentAnswer, ConsentUnavailable, InvalidAccessToken


class UnwiredAccessTokens:
    """An `AccessTokens` that knows no token: every data request is a 401."""

    async def verify(self, token: str, *, audience: str) -> AccessGrant:
        """Always refuses."""
        raise InvalidAccessToken("access tokens are not issued by this deployment yet")


class UnwiredConsentCheck:
    """A `ConsentCheck` that cannot tell: every data request is a 503 (never an allow)."""

    async def check(self, *, user_key: str, app_id: str, scopes: tuple[str, ...]) -> ConsentAnswer:
        """Always unavailable."""
        raise ConsentUnavailable("the consent check is not wired in this deployment yet")
