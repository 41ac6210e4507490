"""Ed25519 signing keys from settings, and the JWKS that publishes their public halves.

Every service that signs something others verify (auth's user tokens, consent's verdicts and
receipts) configures its keys the same way: base64 of 32-byte seeds, comma separated, the first
signs, all are published (a rotation adds the new key, waits a JWKS refresh, moves it first).
A `dev-only-` phrase derives a development key (refused outside development by the settings).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from shared.settings import DEV_SECRET_PREFIX

ALGORITHM = "Ed25519"


def key_from_seed(value: str) -> OKPKey:
    """An Ed25519 key from base64 of a 32-byte seed (a `dev-only-` phrase derives one); its
    `kid` is the RFC 7638 thumbprint."""
    text = value.strip()
    if text.startswith(DEV_SECRET_PREFIX):
        seed = hashlib.sha256(text.encode()).digest()
    else:
        seed = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_")
        if len(seed) != 32:
            raise ValueError("a signing key is base64 of a 32-byte Ed25519 seed")
    private = Ed25519PrivateKey.from_private_bytes(seed)
    key = OKPKey.import_key(private)
    return OKPKey.import_key(private, {"kid": key.thumbprint()})


def keys_from_setting(value: str) -> list[OKPKey]:
    """Every key of a comma-separated setting, the signing one first (at least one)."""
    keys = [key_from_seed(part) for part in value.split(",") if part.strip()]
    if not keys:
        raise ValueError("configure at least one signing key")
    return keys


def jwks(keys: list[OKPKey]) -> dict[str, Any]:
    """The JWKS of the keys' public halves (RFC 7517), each with its kid, use and alg."""
    return {
        "keys": [
            {**key.as_dict(private=False), "kid": key.kid, "use": "sig", "alg": ALGORITHM}
            for key in keys
        ]
    }
