"""Keyed hashes that stand in for a phone number, and the per-app ids apps see.

The number itself is never kept: the lookup `_id` is `HMAC(lookup key, E.164)` (with the key's
id beside it, so keys rotate), and the user key it points to is random. An app sees only
`HMAC(pairwise secret, user key ‖ app id)`, the OIDC pairwise subject.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class LookupKeys:
    """The lookup keys by id, and which one writes new lookups."""

    keys: dict[str, bytes]
    current: str

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError(f"the current lookup key {self.current!r} is not configured")

    def ids(self, *, e164: str) -> list[tuple[str, str]]:
        """(key id, lookup id) under every key, the current key first."""
        order = [self.current, *(k for k in self.keys if k != self.current)]
        return [(k, lookup_id(self.keys[k], e164=e164)) for k in order]


def lookup_id(key: bytes, *, e164: str) -> str:
    """The lookup document's `_id` for a number under one key (hex HMAC-SHA256)."""
    return hmac.new(key, b"lookup\x00" + e164.encode(), hashlib.sha256).hexdigest()


def keyed(key: bytes, *, purpose: str, value: str) -> str:
    """A keyed hash of `value` for one purpose (challenge ids, limit counters, code hashes)."""
    message = purpose.encode() + b"\x00" + value.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def pairwise_subject(secret: bytes, *, user_key: str, app_id: str) -> str:
    """The id one app sees for one user: stable for the app, unlinkable across apps."""
    # Length-prefixed, so ("ab", "c") and ("a", "bc") can never give the same input.
    message = len(user_key).to_bytes(2, "big") + user_key.encode() + app_id.encode()
    # Hex, not base64url: an id may never start with `-` or `_` (the events' Identifier
    # pattern refuses that, and 1 in 32 base64url ids would).
    return hmac.new(secret, b"pairwise\x00" + message, hashlib.sha256).hexdigest()


def new_user_key() -> str:
    """A random, time-ordered user key (UUIDv7): nothing about the number is in it."""
    return str(_uuid7())


def _uuid7() -> uuid.UUID:
    ms = time.time_ns() // 1_000_000
    raw = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    raw[6] = 0x70 | (raw[6] & 0x0F)
    raw[8] = 0x80 | (raw[8] & 0x3F)
    return uuid.UUID(bytes=bytes(raw))
