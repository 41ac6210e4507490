"""Verifies the signed user session tokens auth issues to the platform's own services.

Keys come from auth's JWKS: inline (a static deployment, or tests signing with a test key) or
fetched from a URL and cached. Either way the same checks run; there is no bypass.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ALGORITHMS = ["Ed25519", "ES256", "RS256"]
"""Fully specified algorithms only (RFC 9864): Ed25519 replaces the polymorphic EdDSA."""
REFRESH_S = 300.0


class InvalidUserToken(ValueError):
    """The token is missing, malformed, unsigned by auth, expired or not for us."""


class UserTokenVerifier:
    """Checks signature, issuer, audience, expiry and subject; returns the user key."""

    def __init__(self, *, issuer: str, audience: str, jwks: str = "", jwks_url: str = "") -> None:
        if not jwks and not jwks_url:
            raise ValueError("set the user-token JWKS (inline JSON) or the URL to fetch it from")
        self._issuer, self._audience, self._url = issuer, audience, jwks_url
        self._keys: KeySet | None = KeySet.import_key_set(json.loads(jwks)) if jwks else None
        self._fetched_at = 0.0

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        stale = time.monotonic() - self._fetched_at > REFRESH_S
        if self._url and (self._keys is None or refresh or stale):
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self._url)
                response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
            self._fetched_at = time.monotonic()
        if self._keys is None:
            raise InvalidUserToken("no keys to verify user tokens with")
        return self._keys

    async def user_key(self, token: str) -> str:
        """The verified `sub` (the internal user key), or InvalidUserToken with the reason."""
        try:
            decoded = await self._decode(token)
            registry = jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self._issuer},
                aud={"essential": True, "value": self._audience},
                exp={"essential": True},
                sub={"essential": True},
            )
            registry.validate(decoded.claims)
        except JoseError as exc:
            raise InvalidUserToken(f"user token rejected: {exc.error}: {exc.description}") from exc
        except ValueError as exc:
            raise InvalidUserToken(f"user token rejected: {exc}") from exc
        subject: Any = decoded.claims["sub"]
        return str(subject)

    async def _decode(self, token: str) -> jwt.Token:
        try:
            return jwt.decode(token, await self._key_set(), algorithms=ALGORITHMS)
        except JoseError:
            if not self._url:
                raise
            # Auth may have rotated its keys: fetch once more before refusing.
            return jwt.decode(token, await self._key_set(refresh=True), algorithms=ALGORITHMS)
