"""Signed multi-shard checkpoints: canonical body, Ed25519 signing/verification, strict JSON.

Signed body (ASCII text; every line, the last included, ends with one LF)::

    audit-checkpoint/v1
    <origin>
    shard <shard> <size> <base64 root>      one line per shard, shard names strictly ascending
    time <RFC 3339 UTC time>

* ``origin``: 1-255 printable ASCII characters, no leading/trailing space.
* ``shard``: a name of 1-200 printable ASCII characters without spaces (e.g. a Kafka
  ``topic/partition``); ``size``: decimal without sign or leading zeros (below 2**63);
  ``root``: 32 bytes, standard padded base64.  At least one shard line.
* ``time``: ``YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`` (a valid UTC date/time).

``signature`` is Ed25519 over exactly these bytes.  ``key_id`` is the lowercase hex of the first
8 bytes of SHA-256 of the raw 32-byte public key; it only selects the verification key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .encoding import (
    MAX_UINT63,
    SHARD_RE,
    b64decode_strict,
    b64encode,
    exact_object,
    get_str,
    get_uint,
)
from .errors import CheckpointError, CheckpointFormatError
from .proofs import HASH_SIZE

HEADER = "audit-checkpoint/v1"
SIGNATURE_SIZE = 64
_ORIGIN_RE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?")
_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z")
_KEY_ID_RE = re.compile(r"[0-9a-f]{16}")
_CHECKPOINT_FIELDS = frozenset({"origin", "shards", "time", "key_id", "signature"})
_SHARD_FIELDS = frozenset({"shard", "size", "root"})


@dataclass(frozen=True)
class ShardHead:
    """Size and root hash of one shard's Merkle tree."""

    shard: str
    size: int
    root: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the tree heads of several shards of one log."""

    origin: str
    shards: tuple[ShardHead, ...]
    time: str
    key_id: str
    signature: bytes

    def shard_head(self, shard: str) -> ShardHead:
        """Return the tree head of `shard`, raising CheckpointError if it is not covered."""
        for head in self.shards:
            if head.shard == shard:
                return head
        raise CheckpointError(f"checkpoint does not cover shard {shard}")


def key_id(public_key: Ed25519PublicKey) -> str:
    """Return the key id: hex of the first 8 bytes of SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:8].hex()


def format_time(moment: datetime) -> str:
    """Format an aware datetime as the RFC 3339 UTC string used in checkpoints."""
    if moment.tzinfo is None:
        raise CheckpointFormatError("checkpoint time must be timezone-aware")
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def _check_time(time: str) -> None:
    if not isinstance(time, str) or not _TIME_RE.fullmatch(time):
        raise CheckpointFormatError(f"checkpoint time is not RFC 3339 UTC: {time!r}")
    try:
        datetime.fromisoformat(time)
    except ValueError as exc:
        raise CheckpointFormatError(f"checkpoint time is not a valid date: {time!r}") from exc


def _check_uint(value: int, *, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UINT63:
        raise CheckpointFormatError(f"{name} must be an integer in [0, 2**63), got {value!r}")


def _check_shard(value: str) -> None:
    if not isinstance(value, str) or not SHARD_RE.fullmatch(value):
        raise CheckpointFormatError(f"invalid shard name: {value!r}")


def _shard_line(head: ShardHead, *, previous: str | None) -> str:
    _check_shard(head.shard)
    _check_uint(head.size, name="shard size")
    if previous is not None and head.shard <= previous:
        raise CheckpointFormatError("shards must be listed once each, in ascending order")
    if not isinstance(head.root, bytes) or len(head.root) != HASH_SIZE:
        raise CheckpointFormatError(f"root of shard {head.shard} must be {HASH_SIZE} bytes")
    return f"shard {head.shard} {head.size} {b64encode(head.root)}\n"


def checkpoint_body(*, origin: str, shards: Sequence[ShardHead], time: str) -> bytes:
    """Return the canonical signed bytes of a checkpoint, validating every field."""
    if not isinstance(origin, str) or not _ORIGIN_RE.fullmatch(origin):
        raise CheckpointFormatError(f"invalid checkpoint origin: {origin!r}")
    if not shards:
        raise CheckpointFormatError("checkpoint must cover at least one shard")
    _check_time(time)
    lines = [f"{HEADER}\n", f"{origin}\n"]
    previous: str | None = None
    for head in shards:
        lines.append(_shard_line(head, previous=previous))
        previous = head.shard
    lines.append(f"time {time}\n")
    return "".join(lines).encode("ascii")


def sign_checkpoint(
    *,
    private_key: Ed25519PrivateKey,
    origin: str,
    shards: Iterable[ShardHead],
    time: str | datetime,
) -> Checkpoint:
    """Sign the tree heads of `shards` (sorted by shard name) at `time`."""
    heads = tuple(shards)
    for head in heads:  # before sorting: a non-str name must not surface as a TypeError
        _check_shard(head.shard)
    heads = tuple(sorted(heads, key=lambda head: head.shard))
    text_time = format_time(time) if isinstance(time, datetime) else time
    body = checkpoint_body(origin=origin, shards=heads, time=text_time)
    return Checkpoint(
        origin=origin,
        shards=heads,
        time=text_time,
        key_id=key_id(private_key.public_key()),
        signature=private_key.sign(body),
    )


def verify_checkpoint(
    *, checkpoint: Checkpoint, public_keys: Mapping[str, Ed25519PublicKey]
) -> None:
    """Check the checkpoint's signature with the key registered under its key id."""
    body = checkpoint_body(origin=checkpoint.origin, shards=checkpoint.shards, time=checkpoint.time)
    if not isinstance(checkpoint.key_id, str) or not _KEY_ID_RE.fullmatch(checkpoint.key_id):
        raise CheckpointFormatError(f"invalid key id: {checkpoint.key_id!r}")
    if not isinstance(checkpoint.signature, bytes) or len(checkpoint.signature) != SIGNATURE_SIZE:
        raise CheckpointFormatError(f"signature must be {SIGNATURE_SIZE} bytes")
    public_key = public_keys.get(checkpoint.key_id)
    if public_key is None:
        raise CheckpointError(f"unknown key id {checkpoint.key_id}")
    if key_id(public_key) != checkpoint.key_id:
        raise CheckpointError(f"public key registered as {checkpoint.key_id} has another key id")
    try:
        public_key.verify(checkpoint.signature, body)
    except InvalidSignature as exc:
        raise CheckpointError("checkpoint signature does not verify") from exc


def checkpoint_to_dict(checkpoint: Checkpoint) -> dict[str, object]:
    """Return the JSON-ready dict form of a checkpoint (bytes as base64)."""
    return {
        "origin": checkpoint.origin,
        "shards": [
            {"shard": head.shard, "size": head.size, "root": b64encode(head.root)}
            for head in checkpoint.shards
        ],
        "time": checkpoint.time,
        "key_id": checkpoint.key_id,
        "signature": b64encode(checkpoint.signature),
    }


def _shard_from_dict(value: object, *, what: str) -> ShardHead:
    err = CheckpointFormatError
    obj = exact_object(value, what=what, required=_SHARD_FIELDS, error=err)
    return ShardHead(
        shard=get_str(obj, key="shard", what=what, error=err),
        size=get_uint(obj, key="size", what=what, error=err),
        root=b64decode_strict(obj["root"], what=f"{what}.root", size=HASH_SIZE, error=err),
    )


def checkpoint_from_dict(value: object) -> Checkpoint:
    """Parse the strict JSON dict form of a checkpoint; raise CheckpointFormatError if bad."""
    err = CheckpointFormatError
    obj = exact_object(value, what="checkpoint", required=_CHECKPOINT_FIELDS, error=err)
    shards = obj["shards"]
    if not isinstance(shards, list):
        raise err("checkpoint.shards must be a JSON array")
    checkpoint = Checkpoint(
        origin=get_str(obj, key="origin", what="checkpoint", error=err),
        shards=tuple(
            _shard_from_dict(item, what=f"checkpoint.shards[{i}]") for i, item in enumerate(shards)
        ),
        time=get_str(obj, key="time", what="checkpoint", error=err),
        key_id=get_str(obj, key="key_id", what="checkpoint", error=err),
        signature=b64decode_strict(
            obj["signature"], what="checkpoint.signature", size=SIGNATURE_SIZE, error=err
        ),
    )
    checkpoint_body(origin=checkpoint.origin, shards=checkpoint.shards, time=checkpoint.time)
    if not _KEY_ID_RE.fullmatch(checkpoint.key_id):
        raise err(f"invalid key id: {checkpoint.key_id!r}")
    return checkpoint


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """Load an Ed25519 public key from PEM, base64 of the raw 32 bytes, or the raw bytes."""
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise CheckpointFormatError("public key PEM cannot be parsed") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise CheckpointFormatError("public key is not an Ed25519 key")
        return key
    raw = data
    if len(data) != 32:
        try:
            raw = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CheckpointFormatError("public key is neither PEM nor base64") from exc
    if len(raw) != 32:
        raise CheckpointFormatError("raw Ed25519 public key must be 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_keys_by_id(keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """Index public keys by their key id, for verify_checkpoint."""
    return {key_id(key): key for key in keys}
