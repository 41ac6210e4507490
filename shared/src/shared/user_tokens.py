"""Verifies the platform's user session tokens, which auth signs, for every platform service.

What auth mints, and all this accepts (anything else is `InvalidUserToken`, a 401):
- a compact JWS whose header has `alg` "Ed25519" (RFC 9864's fully specified name, the only one),
  `typ` `USER_TOKEN_TYP` ("kits-user+jwt"; "application/kits-user+jwt" too, RFC 7515 4.1.9),
  and `kid` naming one key of auth's JWKS;
- claims `iss` (the configured issuer), `aud` (the configured audience, or a list holding it),
  `exp`, and `sub` (the internal user key); `nbf` and `iat` are checked when present; clocks may
  differ by `LEEWAY_S`.
The `typ` keeps auth's other JWTs (OAuth access tokens for apps, `at+jwt`) from passing as one.

Keys are auth's JWKS, inline or fetched and cached by `shared.jwks.JwksKeys` (refetched when
stale or for an unknown `kid`, rate-limited; a failed refresh keeps the cached keys). Only when
keys were never fetched does a well-formed token get `KeysUnavailable` (a 503); every failure of
httpx, JSON, key import or joserfc is mapped to one of these two, never left to escape.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from shared.jwks import (
    ALGORITHM,
    MAX_FIELD_CHARS,
    MAX_JWKS_BYTES,
    JwksKeys,
    Keys,
    KeysUnavailable,
    UnknownKey,
    UnusableJwks,
    import_jwks,
)
from shared.settings import UserTokenSettings

USER_TOKEN_TYP = "kits-user+jwt"
LEEWAY_S = 30
MAX_TOKEN_CHARS = 8192

__all__ = [
    "ALGORITHM",
    "USER_TOKEN_TYP",
    "InvalidUserToken",
    "Keys",
    "MAX_JWKS_BYTES",
    "KeysUnavailable",
    "UnusableJwks",
    "UserTokenVerifier",
    "import_jwks",
    "key_id_of",
]


class InvalidUserToken(ValueError):
    """The token is malformed, not signed by auth's keys, expired or not for us: a 401."""


def key_id_of(token: str, *, typ: str = USER_TOKEN_TYP) -> str:
    """The `kid` of a well-formed token's header (alg and typ checked), else InvalidUserToken."""
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidUserToken("token too long")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidUserToken("not a compact JWS")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, RecursionError) as exc:  # base64, UTF-8 and JSON errors are ValueErrors
        raise InvalidUserToken("unreadable token header") from exc
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        raise InvalidUserToken(f"token header must name alg {ALGORITHM}")
    named = header.get("typ")
    if not isinstance(named, str) or named.lower().removeprefix("application/") != typ:
        raise InvalidUserToken(f"token header must name typ {typ}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_FIELD_CHARS:
        raise InvalidUserToken("token header must name a kid")
    return kid


class UserTokenVerifier:
    """Checks a user token as the module docstring says; returns its `sub`, the user key."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: str = "",
        jwks_url: str = "",
        development: bool = False,
        refresh_s: float = 300.0,
        min_refetch_s: float = 10.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        typ: str = USER_TOKEN_TYP,
        required: tuple[str, ...] = (),
    ) -> None:
        if bool(jwks) == bool(jwks_url):
            raise ValueError("set either the inline user-token JWKS or the URL to fetch it from")
        try:
            self._keys = JwksKeys(
                jwks=jwks,
                jwks_url=jwks_url,
                development=development,
                refresh_s=refresh_s,
                min_refetch_s=min_refetch_s,
                timeout_s=timeout_s,
                clock=clock,
            )
        except ValueError as exc:
            raise ValueError(str(exc).replace("inline JWKS", "inline user-token JWKS")) from exc
        self._claims = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_S,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
            **{name: {"essential": True} for name in required},  # type: ignore[arg-type]
        )
        self._typ = typ

    @classmethod
    def from_settings(cls, settings: UserTokenSettings) -> UserTokenVerifier | None:
        """The verifier the settings describe, or None when they configure no keys."""
        if not settings.user_tokens_configured:
            return None
        return cls(
            issuer=settings.user_token_issuer,
            audience=settings.user_token_audience,
            jwks=settings.user_token_jwks,
            jwks_url=settings.user_token_jwks_url,
            development=settings.environment == "development",
            refresh_s=settings.user_token_jwks_refresh_s,
            min_refetch_s=settings.user_token_jwks_min_refetch_s,
        )

    async def user_key(self, token: str) -> str:
        """The verified `sub` (internal user key); InvalidUserToken or KeysUnavailable."""
        return str((await self.claims(token))["sub"])

    async def claims(self, token: str) -> dict[str, Any]:
        """Every claim of a verified token (`sub` checked to be a user key); the same errors.

        Other signed statements of auth (the consent challenge) use it with their own `typ`
        and required claims."""
        kid = key_id_of(token, typ=self._typ)
        key = await self._key(kid)
        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
            self._claims.validate(decoded.claims)
        except JoseError as exc:
            raise InvalidUserToken(f"user token rejected: {exc.error}: {exc.description}") from exc
        except (ValueError, TypeError, RecursionError) as exc:
            raise InvalidUserToken(f"user token rejected: {type(exc).__name__}") from exc
        subject = decoded.claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_FIELD_CHARS:
            raise InvalidUserToken("user token rejected: sub is not a user key")
        return dict(decoded.claims)

    async def _key(self, kid: str) -> OKPKey:
        try:
            return await self._keys.key(kid)
        except UnknownKey as exc:
            raise InvalidUserToken("user token rejected: unknown kid") from exc
        except KeysUnavailable as exc:
            raise KeysUnavailable(
                "auth's user-token keys could not be fetched yet", retry_after_s=exc.retry_after_s
            ) from exc
