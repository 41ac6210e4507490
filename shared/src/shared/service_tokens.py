"""Verifies the short-lived tokens one platform service presents when it calls another.

What a caller sends (`Authorization: Bearer <token>`), and all this accepts (anything else is
`InvalidServiceToken`, a 401):
- a compact JWS whose header has `alg` "Ed25519", `typ` `SERVICE_TOKEN_TYP` ("kits-service+jwt";
  "application/kits-service+jwt" too) and a `kid` of the calling service's own JWKS;
- claims `iss` and `sub` both the calling service's name (one of the configured callers),
  `aud` this service's name (or a list holding it), `exp` at most `MAX_LIFETIME_S` after `iat`
  (both required), `nbf` checked when present; clocks may differ by `LEEWAY_S`.
Each caller's keys are its published JWKS (inline, or fetched and cached by `JwksKeys`); a
caller that is not configured is refused without any fetch. The `typ` keeps user tokens and
OAuth access tokens, which the same keys might sign, from passing as service tokens.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from joserfc import jwt
from joserfc.errors import JoseError

from shared.jwks import ALGORITHM, MAX_FIELD_CHARS, JwksKeys, KeysUnavailable, UnknownKey
from shared.user_tokens import InvalidUserToken, key_id_of

SERVICE_TOKEN_TYP = "kits-service+jwt"
LEEWAY_S = 30
MAX_LIFETIME_S = 300

__all__ = ["SERVICE_TOKEN_TYP", "InvalidServiceToken", "KeysUnavailable", "ServiceTokenVerifier"]


class InvalidServiceToken(ValueError):
    """Malformed, unsigned by a known caller, expired, too long-lived or not for us: a 401."""


class ServiceTokenVerifier:
    """Checks a service token as the module docstring says; returns the caller's name."""

    def __init__(self, *, audience: str, callers: Mapping[str, JwksKeys]) -> None:
        self._audience = audience
        self._callers = dict(callers)

    async def caller(self, token: str) -> str:
        """The verified calling service; InvalidServiceToken or KeysUnavailable."""
        try:
            kid = key_id_of(token, typ=SERVICE_TOKEN_TYP)
        except InvalidUserToken as exc:
            raise InvalidServiceToken(str(exc)) from exc
        name = _unverified_issuer(token)
        keys = self._callers.get(name)
        if keys is None:
            raise InvalidServiceToken("service token rejected: not from a known caller")
        try:
            key = await keys.key(kid)
        except UnknownKey as exc:
            raise InvalidServiceToken("service token rejected: unknown kid") from exc
        claims = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_S,
            iss={"essential": True, "value": name},
            sub={"essential": True, "value": name},
            aud={"essential": True, "value": self._audience},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
            claims.validate(decoded.claims)
        except JoseError as exc:
            raise InvalidServiceToken(f"service token rejected: {exc.error}") from exc
        except (ValueError, TypeError, RecursionError) as exc:
            raise InvalidServiceToken(f"service token rejected: {type(exc).__name__}") from exc
        lifetime = decoded.claims["exp"] - decoded.claims["iat"]
        if not isinstance(lifetime, int | float) or lifetime > MAX_LIFETIME_S:
            raise InvalidServiceToken(f"service token rejected: lives over {MAX_LIFETIME_S} s")
        return name


def _unverified_issuer(token: str) -> str:
    """The `iss` the token claims, to pick that caller's keys (verified right after)."""
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, RecursionError) as exc:
        raise InvalidServiceToken("unreadable token claims") from exc
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or not 0 < len(issuer) <= MAX_FIELD_CHARS:
        raise InvalidServiceToken("service token must name its caller in iss")
    return issuer
