"""Re-drive chosen dead letters to their origin topic, once, after their cause is fixed.

Each is published with the original key, value and headers (without the `dlq-*` ones) plus
`dlq-redriven-from: <group>.dlq/<offset>`, to its original partition, with acks=all and an
idempotent producer, one at a time, each acknowledgement awaited. Only then is its marker written
to `<group>.dlq.redriven`: a crash between the two re-drives that one again on the next run, a
duplicate that consumers drop by event id (the bytes, hence the id, are the original's); marking
first would instead lose the record for good if the publish then failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from shared.kafka.broker import ensure_topics
from shared.kafka.dlq_records import (
    REDRIVEN_FROM,
    DeadLetter,
    Redrive,
    dead_letters,
    redriven_topic,
    redrives,
)
from shared.topics import dead_letter_topic

SEND_TIMEOUT_MS = 15000


class NotRedrivable(ValueError):
    """The request names dead letters that do not exist or cannot be re-driven."""


@dataclass(frozen=True)
class Selection:
    """Which dead letters to re-drive: by dlq offset, or every one with a cause."""

    offsets: frozenset[int] = frozenset()
    cause: str | None = None
    force: bool = False

    def wants(self, letter: DeadLetter) -> bool:
        """Whether this dead letter is chosen (before the already-re-driven rule)."""
        if self.offsets:
            return letter.dlq_offset in self.offsets
        return letter.cause == self.cause


@dataclass
class Plan:
    """What a re-drive will do (or did): the letters to publish, and those left alone."""

    group_id: str
    forced: bool = False
    chosen: list[DeadLetter] = field(default_factory=list)
    already: dict[int, Redrive] = field(default_factory=dict)
    done: list[Redrive] = field(default_factory=list)


async def plan(bootstrap: str, *, group_id: str, selection: Selection) -> Plan:
    """Choose the dead letters; NotRedrivable if an offset is missing or has no origin."""
    markers = await redrives(bootstrap, group_id=group_id)
    result = Plan(group_id=group_id, forced=selection.force)
    seen: set[int] = set()
    async for letter in dead_letters(bootstrap, group_id=group_id):
        if not selection.wants(letter):
            continue
        seen.add(letter.dlq_offset)
        if letter.dlq_offset in markers and not selection.force:
            result.already[letter.dlq_offset] = markers[letter.dlq_offset]
        else:
            result.chosen.append(letter)
    missing = sorted(selection.offsets - seen)
    if missing:
        raise NotRedrivable(f"no dead letter at offset(s) {', '.join(map(str, missing))}")
    unroutable = [d.dlq_offset for d in result.chosen if not _routable(d)]
    if unroutable:
        raise NotRedrivable(f"dead letter(s) without an origin topic/partition: {unroutable}")
    return result


async def execute(bootstrap: str, *, work: Plan) -> Plan:
    """Publish each chosen dead letter, then its marker; stops at the first failure (raises)."""
    if not work.chosen:
        return work
    await ensure_topics(bootstrap_servers=bootstrap, topics=[redriven_topic(work.group_id)])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=SEND_TIMEOUT_MS,
    )
    await producer.start()
    try:
        for letter in work.chosen:
            work.done.append(
                await _redrive_one(
                    producer, group_id=work.group_id, letter=letter, forced=work.forced
                )
            )
    finally:
        await producer.stop()
    return work


async def _redrive_one(
    producer: AIOKafkaProducer, *, group_id: str, letter: DeadLetter, forced: bool
) -> Redrive:
    source = f"{dead_letter_topic(group_id).name}/{letter.dlq_offset}"
    headers = [*letter.original_headers, (REDRIVEN_FROM, source.encode())]
    meta = await producer.send_and_wait(
        letter.origin_topic,
        value=letter.value,
        key=letter.key,
        partition=letter.origin_partition,
        headers=headers,
    )
    marker = Redrive(
        dlq_offset=letter.dlq_offset,
        topic=meta.topic,
        partition=meta.partition,
        offset=meta.offset,
        at=datetime.now(UTC).isoformat(),
        forced=forced,
    )
    await producer.send_and_wait(
        redriven_topic(group_id).name, value=marker.to_bytes(), key=str(letter.dlq_offset).encode()
    )
    return marker


def _routable(letter: DeadLetter) -> bool:
    return bool(letter.origin_topic) and letter.origin_partition is not None


def parse_offsets(text: str) -> frozenset[int]:
    """`3,7,12` as a set of offsets; ValueError for anything else."""
    parts: Sequence[str] = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"--offsets wants dlq offsets separated by commas, e.g. 3,7: {text!r}")
    return frozenset(int(p) for p in parts)
