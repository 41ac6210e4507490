"""The checkpoint signing key, and the retired keys whose checkpoints must still verify."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DEV_PREFIX = "dev-only-"


def signing_key_from_setting(value: str) -> Ed25519PrivateKey:
    """Base64 of a 32-byte Ed25519 seed; a `dev-only-` phrase derives a development key."""
    if value.startswith(DEV_PREFIX):
        return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(value.encode()).digest())
    return Ed25519PrivateKey.from_private_bytes(
        _raw32(value, what="the signing key must be base64 of a 32-byte Ed25519 seed")
    )


def public_keys_from_setting(value: str) -> list[Ed25519PublicKey]:
    """Comma-separated base64 of raw 32-byte Ed25519 public keys (a retired key is listed by
    its public half only: its seed is no longer needed anywhere)."""
    return [
        Ed25519PublicKey.from_public_bytes(
            _raw32(part.strip(), what=f"previous public key {n + 1} must be base64 of 32 bytes")
        )
        for n, part in enumerate(value.split(","))
        if part.strip()
    ]


def _raw32(value: str, *, what: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(what) from exc
    if len(raw) != 32:
        raise ValueError(what)
    return raw
