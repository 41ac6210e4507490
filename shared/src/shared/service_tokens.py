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

Callers reuse one token until shortly before it expires, so a verified token is remembered
(the exact string, up to `REMEMBERED` of them) until its own `exp`, without the leeway: the
signature and claims are checked once per token, not once per call (the consent check's
profile spent a tenth of its CPU there). A remembered token is as good as it was when checked:
a caller key removed from its JWKS stops new tokens at once and old ones within their lifetime
(at most `MAX_LIFETIME_S`).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping

from joserfc import jwt
from joserfc.errors import JoseError

from shared.jwks import ALGORITHM, MAX_FIELD_CHARS, JwksKeys, KeysUnavailable, UnknownKey
from shared.user_tokens import InvalidUserToken, key_id_of

SERVICE_TOKEN_TYP = "kits-service+jwt"
LEEWAY_S = 30
MAX_LIFETIME_S = 300
REMEMBERED = 1024

__all__ = ["SERVICE_TOKEN_TYP", "InvalidServiceToken", "KeysUnavailable", "ServiceTokenVerifier"]


class InvalidServiceToken(ValueError):
    """Malformed, unsigned by a known caller, expired, too long-lived or not for us: a 401."""


class ServiceTokenVerifier:
    """Checks a service token as the module docstring says; returns the caller's name."""

    def __init__(
        self,
        *,
        audience: str,
        callers: Mapping[str, JwksKeys],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._audience = audience
        self._callers = dict(callers)
        self._clock = clock
        self._verified: dict[str, tuple[str, float]] = {}  # token -> (caller, its exp)

    async def caller(self, token: str) -> str:
        """The verified calling service; InvalidServiceToken or KeysUnavailable."""
        remembered = self._verified.get(token)
        if remembered is not None:
            if self._clock() < remembered[1]:
                return remembered[0]
            del self._verified[token]
        name, expires = await self._verify(token)
        if len(self._verified) >= REMEMBERED:
            now = self._clock()
            self._verified = {t: v for t, v in self._verified.items() if now < v[1]}
            if len(self._verified) >= REMEMBERED:
                self._verified.clear()
        self._verified[token] = (name, expires)
        return name

    async def _verify(self, token: str) -> tuple[str, float]:
        """(the caller, the token's `exp`) after every check of the module docstring."""
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
        return name, float(decoded.claims["exp"])


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
