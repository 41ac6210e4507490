"""The consumer pipeline's retry and dead-letter rules, with in-memory fakes of our own ports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiokafka.structs import ConsumerRecord

from shared.events import make_event
from shared.events.consent import ConsentRevoked
from shared.kafka.consumer import Delivery, EventPipeline, PermanentError, RetryPolicy


class FakeDeadLetters:
    """Collects what would be dead-lettered."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, int]] = []

    async def send(
        self, *, record: ConsumerRecord[Any, Any], error: BaseException, attempts: int
    ) -> None:
        self.sent.append((record.offset, type(error).__name__, attempts))


def record(offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        "consent.events", 0, offset, 0, 0, b"k", value, None, len(b"k"), len(value), []
    )


def revoked(n: int) -> bytes:
    return make_event(
        ConsentRevoked(user_key=f"uk_{n:08d}", app_id="app_1", consent_id=f"c_{n}", version=2),
        source="/consent",
    ).to_bytes()


def pipeline(dead: FakeDeadLetters, attempts: int = 3) -> EventPipeline:
    return EventPipeline(
        dead_letters=dead,
        retry=RetryPolicy(attempts=attempts, backoff_s=0),
        accepts=frozenset({ConsentRevoked.TYPE}),
    )


async def test_transient_failures_are_retried_then_succeed() -> None:
    dead, calls = FakeDeadLetters(), []

    async def flaky(delivery: Delivery) -> None:
        calls.append(delivery.event.id)
        if len(calls) < 3:
            raise ConnectionError("blip")

    await pipeline(dead).process_one(record(5, revoked(1)), flaky)
    assert len(calls) == 3
    assert dead.sent == []


async def test_a_failure_after_the_last_attempt_is_dead_lettered() -> None:
    dead = FakeDeadLetters()

    async def broken(_: Delivery) -> None:
        raise RuntimeError("always")

    await pipeline(dead, attempts=4).process_one(record(7, revoked(1)), broken)
    assert dead.sent == [(7, "RuntimeError", 4)]


async def test_permanent_errors_and_bad_bytes_are_not_retried() -> None:
    dead, calls = FakeDeadLetters(), []

    async def refuses(delivery: Delivery) -> None:
        calls.append(delivery)
        raise PermanentError("breaks a rule")

    p = pipeline(dead)
    await p.process_one(record(1, revoked(1)), refuses)
    await p.process_one(record(2, b"{not json"), refuses)
    assert len(calls) == 1
    assert dead.sent == [(1, "PermanentError", 1), (2, "InvalidEvent", 1)]


async def test_a_poison_event_in_a_batch_is_isolated() -> None:
    dead, stored = FakeDeadLetters(), list[str]()

    async def store(batch: Sequence[Delivery]) -> None:
        if any(d.event.data.consent_id == "c_3" for d in batch):
            raise ValueError("poison")
        stored.extend(d.event.data.consent_id for d in batch)

    records = [record(i, revoked(i)) for i in range(6)]
    await pipeline(dead).process_batch(records, store)
    assert stored == ["c_0", "c_1", "c_2", "c_4", "c_5"]
    assert dead.sent == [(3, "ValueError", 3)]


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(attempts=10, backoff_s=0.1, max_backoff_s=0.5)
    assert [policy.delay(a) for a in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.5]
