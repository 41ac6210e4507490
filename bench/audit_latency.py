"""B5: latency from just before a publish to the moment its ledger entry is stored."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from bench.env import BenchEnv
from bench.events import Wire, make_wire
from bench.figures import Results, percentile
from bench.kafka_io import HEADERS, batch_subscriber, producer
from bench.ledger import INGEST, fresh_ledger, timed_handler
from shared.kafka.consumer import MirrorHandler, Received
from shared.kafka.publisher import DurablePublisher

AREA = "B. audit"
P99_TARGET_MS = 100.0
WARM_UP = 60
TIMEOUT_S = 60.0


class Stamps:
    """When each event was sent and when its entry was stored (time.monotonic)."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.stored: dict[str, float] = {}
        self.received: dict[str, float] = {}
        self.batches: list[int] = []

    def stamping(self, handler: MirrorHandler) -> MirrorHandler:
        """The handler; once it returns, its events count as stored at that moment."""

        async def ledger_ingest(deliveries: Sequence[Received]) -> None:
            received = time.monotonic()
            ids = [d.event.id for d in deliveries if d.event is not None]
            for i in ids:
                self.received.setdefault(i, received)
            await handler(deliveries)
            now = time.monotonic()
            self.batches.append(len(deliveries))
            for i in ids:
                self.stored.setdefault(i, now)

        return ledger_ingest

    async def wait_stored(self, ids: Sequence[str]) -> None:
        """Poll until every id is stored, or fail after TIMEOUT_S."""
        deadline = time.monotonic() + TIMEOUT_S
        while any(i not in self.stored for i in ids):
            if time.monotonic() > deadline:
                missing = sum(1 for i in ids if i not in self.stored)
                raise RuntimeError(f"B5: {missing} of {len(ids)} events not stored in time")
            await asyncio.sleep(0.01)


async def paced(
    publisher: DurablePublisher, topic: str, wire: Sequence[Wire], stamps: Stamps, per_s: float
) -> list[float]:
    """Publish at `per_s` events a second (each not waiting for the last); returns ack seconds."""
    start = time.monotonic()

    async def send(item: Wire) -> float:
        stamps.sent[item.id] = sent = time.monotonic()
        await publisher.publish_raw(topic=topic, value=item.value, key=item.key, headers=HEADERS)
        return time.monotonic() - sent

    tasks = []
    for i, item in enumerate(wire):
        await asyncio.sleep(max(0.0, start + i / per_s - time.monotonic()))
        tasks.append(asyncio.create_task(send(item)))
    return list(await asyncio.gather(*tasks))


async def run_latency(
    env: BenchEnv, results: Results, *, per_s: float, seconds: float, batch_timeout_ms: int
) -> None:
    """Paced publishes while the ledger subscriber runs; p50/p99 of publish → entry stored."""
    topic = await env.topic("latency")
    ledger = await fresh_ledger(env, "latency")
    stamps = Stamps()
    handler = stamps.stamping(timed_handler(ledger.ingest(), ledger.timings, set()))
    wire = make_wire(WARM_UP + int(per_s * seconds), seed=11)
    warm, measured = wire[:WARM_UP], wire[WARM_UP:]
    async with (
        producer(env, "latency-producer") as publisher,
        batch_subscriber(
            env, "latency", topic, handler, batch_timeout_ms=batch_timeout_ms, mirror=True
        ),
    ):
        await paced(publisher, topic, warm, stamps, per_s)  # group joined, all partitions live
        await stamps.wait_stored([w.id for w in warm])
        batches_before = len(stamps.batches)
        ledger.timings.reset()
        acks = await paced(publisher, topic, measured, stamps, per_s)
        await stamps.wait_stored([w.id for w in measured])
    report(results, stamps, measured, acks, stamps.batches[batches_before:], batch_timeout_ms)
    calls = max(1, ledger.timings.calls[(INGEST, "handler")])
    for step, seconds in sorted(ledger.timings.steps(INGEST).items()):
        results.add(AREA, f"B5   {step}, per handler call", 1000 * seconds / calls, "ms")


def report(
    results: Results,
    stamps: Stamps,
    measured: Sequence[Wire],
    acks: Sequence[float],
    batches: Sequence[int],
    batch_timeout_ms: int,
) -> None:
    """The latency figures, split at the moment the handler was called."""
    millis = [(stamps.stored[w.id] - stamps.sent[w.id]) * 1000 for w in measured]
    waiting = [(stamps.received[w.id] - stamps.sent[w.id]) * 1000 for w in measured]
    handling = [(stamps.stored[w.id] - stamps.received[w.id]) * 1000 for w in measured]
    ack_ms = [a * 1000 for a in acks]
    label = f"B5 publish → entry stored ({len(measured):,} events, paced)"
    note = f"batch_timeout_ms={batch_timeout_ms}; {sum(batches) / max(1, len(batches)):.1f} "
    note += f"events per handler call ({len(batches)} calls)"
    results.add(AREA, f"{label} p50", percentile(millis, 50), "ms", note=note)
    results.add(
        AREA, f"{label} p99", percentile(millis, 99), "ms", target=P99_TARGET_MS, compare="<="
    )
    results.add(AREA, "B5 max publish → stored", max(millis), "ms")
    results.add(AREA, "B5   of which publish → handler called, p50", percentile(waiting, 50), "ms")
    results.add(AREA, "B5   of which handler called → stored, p50", percentile(handling, 50), "ms")
    results.add(AREA, "B5 publish ack (acks=all) p50", percentile(ack_ms, 50), "ms")
    results.add(AREA, "B5 publish ack (acks=all) p99", percentile(ack_ms, 99), "ms")
