"""Sound's service tokens: what sound presents to auth (resolve) and consent (check).

The format `shared/service_tokens.py` verifies: compact JWS, `alg` Ed25519, `typ`
`kits-service+jwt`, `kid` = RFC 7638 thumbprint of sound's first key (`SOUND_SERVICE_TOKEN_KEYS`,
published at sound's `/.well-known/jwks.json`); `iss` = `sub` = `sound`, `aud` = the callee,
`iat`, `exp` (`ttl_s` later, at most 300 s), `jti`. One token per audience is cached until
`refresh_before_s` before it expires.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from joserfc import jwt

from shared.service_tokens import MAX_LIFETIME_S, SERVICE_TOKEN_TYP
from shared.signing_keys import ALGORITHM, jwks, keys_from_setting

SERVICE_NAME = "sound"


class ServiceTokenSigner:
    """Mints (and caches, per audience) sound's short-lived service tokens."""

    def __init__(
        self,
        *,
        seeds: str,
        ttl_s: int = 120,
        refresh_before_s: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < refresh_before_s < ttl_s <= MAX_LIFETIME_S:
            raise ValueError("need 0 < refresh_before_s < ttl_s <= 300")
        self._keys = keys_from_setting(seeds)
        self._ttl_s, self._refresh_before_s, self._clock = ttl_s, refresh_before_s, clock
        self._cache: dict[str, tuple[str, float]] = {}

    def jwks(self) -> dict[str, Any]:
        """The public JWKS of every configured key."""
        return jwks(self._keys)

    def bearer(self, audience: str) -> dict[str, str]:
        """The Authorization header for a call to `audience`."""
        now = self._clock()
        cached = self._cache.get(audience)
        if cached is None or now >= cached[1] - self._refresh_before_s:
            issued = int(now)
            claims = {
                "iss": SERVICE_NAME,
                "sub": SERVICE_NAME,
                "aud": audience,
                "iat": issued,
                "exp": issued + self._ttl_s,
                "jti": uuid.uuid4().hex,
            }
            header = {"alg": ALGORITHM, "typ": SERVICE_TOKEN_TYP, "kid": self._keys[0].kid}
            token = jwt.encode(header, claims, self._keys[0], algorithms=[ALGORITHM])
            cached = (token, float(issued + self._ttl_s))
            self._cache[audience] = cached
        return {"Authorization": f"Bearer {cached[0]}"}
