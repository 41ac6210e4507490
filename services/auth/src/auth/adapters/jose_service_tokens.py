"""Auth's service tokens: what auth presents when it calls another platform service.

The format `shared/service_tokens.py` verifies: a compact JWS, header `alg` Ed25519, `typ`
`kits-service+jwt`, `kid` = the RFC 7638 thumbprint of auth's first platform key (the key set
`AUTH_USER_TOKEN_KEYS`, published at auth's `/.well-known/jwks.json`); claims `iss` = `sub` =
`auth`, `aud` = the callee, `iat`, `exp` (`ttl_s` later, at most 300 s), `jti`. One token per
audience is cached and reused until `refresh_before_s` before it expires, so a busy path signs
about once a minute, not once per request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from joserfc import jwt

from shared.service_tokens import MAX_LIFETIME_S, SERVICE_TOKEN_TYP
from shared.signing_keys import ALGORITHM, keys_from_setting

SERVICE_NAME = "auth"


class ServiceTokenSigner:
    """Mints (and caches, per audience) auth's short-lived service tokens."""

    def __init__(
        self,
        *,
        seeds: str,
        name: str = SERVICE_NAME,
        ttl_s: int = 120,
        refresh_before_s: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < refresh_before_s < ttl_s <= MAX_LIFETIME_S:
            raise ValueError("need 0 < refresh_before_s < ttl_s <= 300")
        self._key = keys_from_setting(seeds)[0]
        self._name, self._ttl_s, self._refresh_before_s = name, ttl_s, refresh_before_s
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}  # audience -> (token, expires at)

    def token(self, audience: str) -> str:
        """A live service token for calls to `audience` (cached until shortly before expiry)."""
        now = self._clock()
        cached = self._cache.get(audience)
        if cached is not None and now < cached[1] - self._refresh_before_s:
            return cached[0]
        issued = int(now)
        claims = {
            "iss": self._name,
            "sub": self._name,
            "aud": audience,
            "iat": issued,
            "exp": issued + self._ttl_s,
            "jti": uuid.uuid4().hex,
        }
        header = {"alg": ALGORITHM, "typ": SERVICE_TOKEN_TYP, "kid": self._key.kid}
        token = jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])
        # A racing caller may mint a second one: harmless, both are valid.
        self._cache[audience] = (token, float(issued + self._ttl_s))
        return token

    def bearer(self, audience: str) -> dict[str, str]:
        """The Authorization header for a call to `audience`."""
        return {"Authorization": f"Bearer {self.token(audience)}"}
