"""Marked entries: the ledger's place for a record that is not an event it can keep as it is.

The ledger mirrors its partitions with no gaps: every record becomes exactly one entry at its
offset's place. An event (of a known type, or of a type or version this code does not know) is
kept as its exact bytes. A record that does not decode or validate, or that repeats an event id
already in the shard, becomes a *marked* entry: a small JSON object holding only the record's
SHA-256 and length (its bytes go to the dead-letter topic for the operator, not into a ledger
kept forever). Its id names the record's place, so it is unique in the shard by construction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal

MARK_PREFIX = "marked:"
MarkCause = Literal["undecodable", "invalid", "duplicate"]


@dataclass(frozen=True, slots=True)
class Mark:
    """What a marked entry says of the record at its place."""

    cause: str
    sha256: str
    length: int
    event_id: str | None


def mark_id(*, shard: str, offset: int) -> str:
    """The id of the marked entry for the record at this place."""
    return f"{MARK_PREFIX}{shard}@{offset}"


def marked_data(
    *, shard: str, offset: int, cause: MarkCause, raw: bytes, event_id: str | None = None
) -> bytes:
    """The canonical bytes of a marked entry (what its leaf hash covers)."""
    body = {
        "id": mark_id(shard=shard, offset=offset),
        "marked": cause,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "length": len(raw),
        "event_id": event_id,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def read_mark(data: bytes) -> Mark | None:
    """The mark in an entry's data, or None for an entry that holds an event's bytes."""
    if not data.startswith(b'{"event_id":'):
        return None
    try:
        body = json.loads(data)
    except ValueError:
        return None
    if not (isinstance(body, dict) and str(body.get("id", "")).startswith(MARK_PREFIX)):
        return None
    event_id = body.get("event_id")
    return Mark(
        cause=str(body.get("marked")),
        sha256=str(body.get("sha256")),
        length=int(body.get("length", -1)),
        event_id=event_id if isinstance(event_id, str) else None,
    )


def holds(data: bytes, raw: bytes) -> bool:
    """Does an entry with this data stand for a record with these bytes?"""
    mark = read_mark(data)
    if mark is None:
        return data == raw
    return mark.length == len(raw) and mark.sha256 == hashlib.sha256(raw).hexdigest()
