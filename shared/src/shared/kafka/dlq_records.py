"""Reading a group's dead letters, and the log of which ones were re-driven.

A dead-letter record on `<group>.dlq` holds the original record's exact value, key, timestamp and
headers, plus `dlq-*` headers saying where it came from and why it failed (README, "Shared
plumbing"). Re-drives are remembered on a topic of their own, `<group>.dlq.redriven`: one marker
record per re-driven dead letter, written only after the re-published record was acknowledged.
A separate topic keeps `<group>.dlq` meaning exactly "records that failed", so its record count
stays the number of dead letters and no reader of it has to tell markers from failures.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from shared.kafka.broker import topic_partitions
from shared.topics import FOREVER, TopicSpec, dead_letter_topic

DLQ_PREFIX = "dlq-"
REDRIVEN_FROM = "dlq-redriven-from"
READ_IDLE_S = 30.0

Headers = tuple[tuple[str, bytes], ...]


class DeadLetterTopicMissing(LookupError):
    """The group has no dead-letter topic on this broker."""


@dataclass(frozen=True)
class DeadLetter:
    """One dead-letter record: the original record as it was, and why it failed."""

    dlq_offset: int
    value: bytes
    key: bytes | None
    timestamp_ms: int
    headers: Headers

    def header(self, name: str) -> str:
        """A header's value as text ('' when absent); the last one wins if repeated."""
        found = [value for key, value in self.headers if key == name]
        return found[-1].decode("utf-8", "replace") if found else ""

    @property
    def origin_topic(self) -> str:
        """The topic the record failed on."""
        return self.header("dlq-origin-topic")

    @property
    def origin_partition(self) -> int | None:
        """The partition it failed on (None when the header is missing or not a number)."""
        return _int(self.header("dlq-origin-partition"))

    @property
    def origin_offset(self) -> int | None:
        """Its offset there."""
        return _int(self.header("dlq-origin-offset"))

    @property
    def cause(self) -> str:
        """`undecodable`, `invalid`, `unknown-type`, `rejected` or `duplicate` ('' if unnamed)."""
        return self.header("dlq-cause")

    @property
    def error_type(self) -> str:
        """The exception class name."""
        return self.header("dlq-error-type")

    @property
    def original_headers(self) -> Headers:
        """The original record's headers, in their order, without the dead-letter ones."""
        return tuple((k, v) for k, v in self.headers if not k.startswith(DLQ_PREFIX))

    def digest(self) -> dict[str, Any]:
        """Length and SHA-256 of the value: enough to match it, nothing of what it says."""
        return {"length": len(self.value), "sha256": hashlib.sha256(self.value).hexdigest()}


@dataclass(frozen=True)
class Redrive:
    """A marker: dead letter `dlq_offset` was re-published at `partition`/`offset` of `topic`."""

    dlq_offset: int
    topic: str
    partition: int
    offset: int
    at: str
    forced: bool

    def to_bytes(self) -> bytes:
        """The marker record's value (JSON)."""
        return json.dumps(self.__dict__, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Redrive | None:
        """Parse a marker; None for anything this tool did not write."""
        try:
            data = json.loads(raw)
            return cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except (ValueError, TypeError, KeyError):
            return None


def redriven_topic(group_id: str) -> TopicSpec:
    """The topic remembering which of a group's dead letters were re-driven, kept as long."""
    return TopicSpec(f"{dead_letter_topic(group_id).name}.redriven", 1, FOREVER, "dlq offset")


async def dead_letters(bootstrap: str, *, group_id: str) -> AsyncIterator[DeadLetter]:
    """Every dead letter of a group, oldest first; DeadLetterTopicMissing if it has no topic."""
    topic = dead_letter_topic(group_id).name
    async for record in _read_all(bootstrap, topic=topic, missing_ok=False):
        yield DeadLetter(
            dlq_offset=record.offset,
            value=record.value if isinstance(record.value, bytes) else b"",
            key=record.key if isinstance(record.key, bytes) else None,
            timestamp_ms=int(record.timestamp),
            headers=tuple((k, bytes(v)) for k, v in record.headers),
        )


async def redrives(bootstrap: str, *, group_id: str) -> dict[int, Redrive]:
    """The latest re-drive of each dead letter of a group, by dlq offset (none: empty)."""
    found: dict[int, Redrive] = {}
    topic = redriven_topic(group_id).name
    async for record in _read_all(bootstrap, topic=topic, missing_ok=True):
        marker = Redrive.from_bytes(record.value if isinstance(record.value, bytes) else b"")
        if marker is not None:
            found[marker.dlq_offset] = marker
    return found


async def _read_all(
    bootstrap: str, *, topic: str, missing_ok: bool
) -> AsyncIterator[ConsumerRecord[Any, Any]]:
    """Read a topic from its start to the end it had when the read began (no group, no commit)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        parts = await topic_partitions(consumer, topic)
        if not parts:
            if missing_ok:
                return
            raise DeadLetterTopicMissing(f"topic {topic} does not exist")
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        idle_since = time.monotonic()
        # Offsets may skip (transaction markers): the position, not a count, says when the end
        # is reached.
        while remaining := [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(*remaining, timeout_ms=500)
            if batch:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > READ_IDLE_S:
                raise TimeoutError(f"{topic}: no records for {READ_IDLE_S:.0f}s before its end")
            for tp in remaining:
                for record in batch.get(tp, ()):
                    if record.offset < ends[tp]:
                        yield record
    finally:
        await consumer.stop()


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
