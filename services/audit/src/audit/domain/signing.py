"""The checkpoint signing key, from its configured form."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

DEV_PREFIX = "dev-only-"


def signing_key_from_setting(value: str) -> Ed25519PrivateKey:
    """Base64 of a 32-byte Ed25519 seed; a `dev-only-` phrase derives a development key."""
    if value.startswith(DEV_PREFIX):
        return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(value.encode()).digest())
    try:
        seed = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError("the signing key must be base64 of a 32-byte Ed25519 seed") from exc
    if len(seed) != 32:
        raise ValueError("the signing key must be base64 of a 32-byte Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(seed)
