"""Kafka through the shared code (publisher, batch subscriber) and raw aiokafka, timed."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

from bench.env import BenchEnv
from bench.events import Wire
from shared.events import CONTENT_TYPE
from shared.kafka.broker import make_broker, topic_partitions
from shared.kafka.consumer import RetryPolicy
from shared.kafka.publisher import DurablePublisher
from shared.kafka.subscribe import subscribe_batch, subscribe_mirror
from shared.topics import dead_letter_topic

HEADERS = {"content-type": CONTENT_TYPE}
STALL_S = 60.0


@dataclass
class Progress:
    """How many items a consumer has finished, and when the first and last finished."""

    count: int = 0
    first_count: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    samples: list[tuple[float, int]] = field(default_factory=list)

    def note(self, done: int) -> None:
        """`done` more items are finished now."""
        now = time.perf_counter()
        if not self.count:
            self.first_at, self.first_count = now, done
        self.count += done
        self.last_at = now
        self.samples.append((now, self.count))

    def steady_rate(self) -> float:
        """Items per second after the first batch (start-up and group join left out)."""
        seconds = self.last_at - self.first_at
        return (self.count - self.first_count) / seconds if seconds > 0 else 0.0

    def window_rate(self, where: str) -> tuple[float, int]:
        """Items per second over the first, middle or last tenth of the batches.

        Returns the rate and the count reached at the window's start.
        """
        points = self.samples
        width = max(1, len(points) // 10)
        start = {"first": 0, "middle": (len(points) - width) // 2, "last": len(points) - width - 1}
        i = max(0, start[where])
        j = min(len(points) - 1, i + width)
        if j <= i or points[j][0] <= points[i][0]:
            return 0.0, points[i][1] if points else 0
        return (points[j][1] - points[i][1]) / (points[j][0] - points[i][0]), points[i][1]


async def wait_for(
    progress: Progress, target: int, *, what: str, deadline: float = math.inf
) -> bool:
    """Poll until `target` items are done (True) or the deadline passed (False).

    Fails if nothing moves for STALL_S seconds.
    """
    seen, since = progress.count, time.perf_counter()
    while progress.count < target:
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.005)
        if progress.count != seen:
            seen, since = progress.count, time.perf_counter()
        elif time.perf_counter() - since > STALL_S:
            raise RuntimeError(f"{what}: stalled at {progress.count} of {target} for {STALL_S}s")
    return True


@asynccontextmanager
async def producer(env: BenchEnv, name: str) -> AsyncIterator[DurablePublisher]:
    """The shared publisher on a started broker built by the shared factory."""
    settings = env.settings(name)
    broker = make_broker(settings)
    await broker.start()
    try:
        yield DurablePublisher(broker=broker, deadline_s=settings.publish_deadline_s)
    finally:
        await broker.stop()


async def publish_batched(
    publisher: DurablePublisher, topic: str, wire: Sequence[Wire], *, batch: int = 1000
) -> float:
    """Durable publishes gathered `batch` at a time; returns the seconds taken."""
    started = time.perf_counter()
    for start in range(0, len(wire), batch):
        await asyncio.gather(
            *(
                publisher.publish_raw(topic=topic, value=w.value, key=w.key, headers=HEADERS)
                for w in wire[start : start + batch]
            )
        )
    return time.perf_counter() - started


async def publish_one_by_one(
    publisher: DurablePublisher, topic: str, wire: Sequence[Wire]
) -> list[float]:
    """Durable publishes, each awaited before the next; returns each one's seconds."""
    latencies = []
    for w in wire:
        started = time.perf_counter()
        await publisher.publish_raw(topic=topic, value=w.value, key=w.key, headers=HEADERS)
        latencies.append(time.perf_counter() - started)
    return latencies


async def raw_consume(bootstrap: str, topic: str) -> tuple[int, float, float]:
    """Read the whole topic with aiokafka getmany: (records, seconds from start, first→last)."""
    started = time.perf_counter()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await topic_partitions(consumer, topic)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        todo, count, first = {tp for tp in parts if ends[tp] > 0}, 0, 0.0
        while todo:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                first = first or time.perf_counter()
                count += sum(1 for r in records if r.offset < ends[tp])
                if records and records[-1].offset + 1 >= ends[tp]:
                    todo.discard(tp)
        done = time.perf_counter()
        return count, done - started, done - first
    finally:
        await consumer.stop()


@dataclass
class BenchHost:
    """What subscribing needs, without a service Runtime."""

    broker: KafkaBroker
    publisher: DurablePublisher
    retry: RetryPolicy
    consumer_groups: list[str] = field(default_factory=list)


@asynccontextmanager
async def batch_subscriber(
    env: BenchEnv,
    name: str,
    topic: str,
    handler: Any,
    *,
    max_records: int = 1000,
    batch_timeout_ms: int = 50,
    mirror: bool = False,
) -> AsyncIterator[float]:
    """A started broker with one `subscribe_batch` subscriber in a fresh group.

    Yields the perf_counter moment just before the broker was started.
    """
    settings = env.settings(name)
    broker = make_broker(settings)
    group = env.group(name)
    host = BenchHost(
        broker=broker,
        publisher=DurablePublisher(broker=broker, deadline_s=settings.publish_deadline_s),
        retry=RetryPolicy(),
    )
    subscribe_any = subscribe_mirror if mirror else subscribe_batch
    subscribe_any(
        host,
        topic,
        group_id=group,
        handler=handler,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        title=f"{group}:bench",
    )
    await env.topic(dead_letter_topic(group).name, partitions=1)
    started = time.perf_counter()
    await broker.start()
    try:
        yield started
    finally:
        await broker.stop()
