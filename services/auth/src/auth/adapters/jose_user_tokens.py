"""Platform user tokens (the JWTs consent, sound and audit verify), signed with joserfc.

Ed25519 only, header `typ` `kits-user+jwt` and `kid` (the key's RFC 7638 thumbprint); claims
`iss`, `aud`, `sub` (the user key), `iat`, `exp`, `jti`. The first configured key signs; every
configured key is published in the JWKS, so a rotation adds the new key, waits one JWKS refresh
interval of the verifiers, then makes it first (`shared/signing_keys.py`).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from joserfc import jwt

from shared.signing_keys import jwks, keys_from_setting
from shared.user_tokens import ALGORITHM, USER_TOKEN_TYP


class UserTokenSigner:
    """Mints user tokens with the current key and publishes every key's public half."""

    def __init__(self, *, seeds: str, issuer: str, audience: str, ttl_s: int) -> None:
        self._keys = keys_from_setting(seeds)
        self._issuer, self._audience, self._ttl_s = issuer, audience, ttl_s

    @property
    def ttl_s(self) -> int:
        """How long a minted token lives."""
        return self._ttl_s

    def mint(self, *, user_key: str, now: float | None = None) -> str:
        """A signed user token for the user key."""
        issued = int(time.time() if now is None else now)
        key = self._keys[0]
        header = {"alg": ALGORITHM, "typ": USER_TOKEN_TYP, "kid": key.kid}
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": user_key,
            "iat": issued,
            "exp": issued + self._ttl_s,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(header, claims, key, algorithms=[ALGORITHM])

    def jwks(self) -> dict[str, Any]:
        """The JWKS of every configured key (public halves only)."""
        return jwks(self._keys)
