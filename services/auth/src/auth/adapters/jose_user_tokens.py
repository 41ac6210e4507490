"""Platform user tokens (the JWTs consent, sound and audit verify), signed with joserfc.

Ed25519 only, header `typ` `kits-user+jwt` and `kid` (the key's RFC 7638 thumbprint); claims
`iss`, `aud`, `sub` (the user key), `iat`, `exp`, `jti`. The first configured key signs; every
configured key is published in the JWKS, so a rotation adds the new key, waits one JWKS refresh
interval of the verifiers, then makes it first.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

from shared.settings import DEV_SECRET_PREFIX
from shared.user_tokens import ALGORITHM, USER_TOKEN_TYP


def key_from_seed(value: str) -> OKPKey:
    """An Ed25519 key from base64 of a 32-byte seed (a `dev-only-` phrase derives one)."""
    text = value.strip()
    if text.startswith(DEV_SECRET_PREFIX):
        seed = hashlib.sha256(text.encode()).digest()
    else:
        seed = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_")
        if len(seed) != 32:
            raise ValueError("a user-token key is base64 of a 32-byte Ed25519 seed")
    private = Ed25519PrivateKey.from_private_bytes(seed)
    key = OKPKey.import_key(private)
    return OKPKey.import_key(private, {"kid": key.thumbprint()})


class UserTokenSigner:
    """Mints user tokens with the current key and publishes every key's public half."""

    def __init__(self, *, seeds: str, issuer: str, audience: str, ttl_s: int) -> None:
        self._keys = [key_from_seed(s) for s in seeds.split(",") if s.strip()]
        if not self._keys:
            raise ValueError("configure at least one user-token key")
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
        keys = []
        for key in self._keys:
            public = key.as_dict(private=False)
            keys.append({**public, "kid": key.kid, "use": "sig", "alg": ALGORITHM})
        return {"keys": keys}
