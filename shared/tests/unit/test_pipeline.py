"""The consumer pipeline's rules, with in-memory fakes of our own ports: a record's own faults
are dead-lettered, anything else is retried (and handed back to Kafka), never parked."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord

from shared.events import make_event
from shared.events.consent import ConsentRevoked
from shared.kafka.consumer import (
    Blocked,
    Delivery,
    EventPipeline,
    PermanentError,
    Received,
    RetryPolicy,
)


class FakeDeadLetters:
    """Collects what would be dead-lettered."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str]] = []

    async def send(
        self, *, record: ConsumerRecord[Any, Any], error: BaseException, cause: Any, attempts: int
    ) -> None:
        self.sent.append((record.offset, type(error).__name__, cause))


def record(offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        "consent.events", 0, offset, 0, 0, b"k", value, None, len(b"k"), len(value), []
    )


def revoked(n: int) -> bytes:
    return make_event(
        ConsentRevoked(user_key=f"uk_{n:08d}", app_id="app_1", consent_id=f"c_{n}", version=2),
        source="/consent",
    ).to_bytes()


def pipeline(dead: FakeDeadLetters, *, hold_s: float = 5.0) -> EventPipeline:
    return EventPipeline(
        dead_letters=dead,
        retry=RetryPolicy(backoff_s=0, max_backoff_s=0, hold_s=hold_s),
        accepts=frozenset({ConsentRevoked.TYPE}),
    )


async def test_transient_failures_are_retried_until_they_pass_and_never_dead_lettered() -> None:
    dead, calls = FakeDeadLetters(), []

    async def flaky(delivery: Delivery) -> None:
        calls.append(delivery.event.id)
        if len(calls) < 25:
            raise ConnectionError("the database is away")

    await pipeline(dead).process_one(record(5, revoked(1)), flaky)
    assert len(calls) == 25
    assert dead.sent == []


async def test_a_failure_that_lasts_hands_the_record_back_and_keeps_its_backoff() -> None:
    dead, calls = FakeDeadLetters(), []

    async def broken(_: Delivery) -> None:
        calls.append(1)
        raise RuntimeError("still away")

    p = pipeline(dead, hold_s=0.05)
    for _ in range(2):  # Kafka redelivers it after each hand-back
        with pytest.raises(Blocked):
            await p.process_one(record(7, revoked(1)), broken)
    assert dead.sent == []
    assert p._failures[("consent.events", 0, 7)] == len(calls)  # counted across hand-backs


async def test_rejected_records_and_bad_bytes_are_dead_lettered_at_once() -> None:
    dead, calls = FakeDeadLetters(), []

    async def refuses(delivery: Delivery) -> None:
        calls.append(delivery)
        raise PermanentError("breaks a rule")

    p = pipeline(dead)
    await p.process_one(record(1, revoked(1)), refuses)
    await p.process_one(record(2, b"{not json"), refuses)
    assert len(calls) == 1
    assert dead.sent == [(1, "PermanentError", "rejected"), (2, "InvalidEvent", "undecodable")]


@pytest.mark.parametrize(
    "value",
    [
        b"[" * 400_000,
        b'{"specversion":"1.0","id":"e1","type":"consent.revoked.v1","data":'
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
        b"{" * 50_000,
        b'"' + b"x" * 2_000_000 + b'"',
    ],
)
async def test_deep_or_huge_json_is_the_records_fault(value: bytes) -> None:
    dead, calls = FakeDeadLetters(), []

    async def handle(delivery: Delivery) -> None:
        calls.append(delivery)

    await pipeline(dead).process_batch(
        [record(3, value), record(4, revoked(4))], lambda b: handle(b[0])
    )
    assert dead.sent == [(3, "InvalidEvent", "undecodable")]
    assert len(calls) == 1


async def test_unknown_versions_of_accepted_types_are_parked_other_types_skipped() -> None:
    dead, calls = FakeDeadLetters(), []
    newer = json.loads(revoked(1))
    newer["type"] = "consent.revoked.v2"
    other = json.loads(revoked(2))
    other["type"] = "sound.teleported.v1"

    async def handle(delivery: Delivery) -> None:
        calls.append(delivery)

    p = pipeline(dead)
    await p.process_one(record(1, json.dumps(newer).encode()), handle)
    await p.process_one(record(2, json.dumps(other).encode()), handle)
    assert dead.sent == [(1, "InvalidEvent", "unknown-type")]
    assert calls == []


async def test_a_failing_batch_is_retried_whole_not_split() -> None:
    dead, sizes = FakeDeadLetters(), []

    async def store(batch: Sequence[Delivery]) -> None:
        sizes.append(len(batch))
        if len(sizes) < 4:
            raise TimeoutError("blip")

    await pipeline(dead).process_batch([record(i, revoked(i)) for i in range(100)], store)
    assert sizes == [100, 100, 100, 100]
    assert dead.sent == []


async def test_a_rejected_record_in_a_batch_is_isolated_by_bisection() -> None:
    dead, stored, calls = FakeDeadLetters(), list[str](), [0]

    async def store(batch: Sequence[Delivery]) -> None:
        calls[0] += 1
        if any(d.event.data.consent_id == "c_37" for d in batch):
            raise PermanentError("poison")
        stored.extend(d.event.data.consent_id for d in batch)

    await pipeline(dead).process_batch([record(i, revoked(i)) for i in range(64)], store)
    assert stored == [f"c_{i}" for i in range(64) if i != 37]
    assert dead.sent == [(37, "PermanentError", "rejected")]
    assert calls[0] <= 2 * 7 + 1  # log2(64) levels, two halves each


async def test_the_mirror_path_hands_over_every_record_and_parks_the_undecodable() -> None:
    dead, seen = FakeDeadLetters(), list[Received]()
    newer = json.loads(revoked(1))
    newer["type"] = "consent.revoked.v2"

    async def mirror(batch: Sequence[Received]) -> None:
        seen.extend(batch)

    values = [revoked(0), json.dumps(newer).encode(), b"[" * 5000, b'{"id": 7}']
    await pipeline(dead).process_mirror([record(i, v) for i, v in enumerate(values)], mirror)
    assert [r.origin.offset for r in seen] == [0, 1, 2, 3]
    assert [r.fault.cause if r.fault else "event" for r in seen] == [
        "event",
        "unknown-type",
        "undecodable",
        "invalid",
    ]
    assert seen[1].fault is not None
    assert seen[1].fault.event_id == newer["id"]
    assert dead.sent == [(2, "InvalidEvent", "undecodable"), (3, "InvalidEvent", "invalid")]


async def test_a_redelivered_batch_parks_its_bad_record_once() -> None:
    dead = FakeDeadLetters()

    async def store(_: Sequence[Delivery]) -> None:
        return None

    p = pipeline(dead)
    for _ in range(3):
        await p.process_batch([record(1, b"nope"), record(2, revoked(2))], store)
    assert dead.sent == [(1, "InvalidEvent", "undecodable")]


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(backoff_s=0.1, max_backoff_s=0.5)
    assert [policy.delay(a) for a in (1, 2, 3, 4, 1000)] == [0.1, 0.2, 0.4, 0.5, 0.5]
