"""A. Foundation baselines: the shared publisher, the shared batch consumer, raw inserts."""

from __future__ import annotations

from collections.abc import Sequence

from bench.env import BenchEnv
from bench.events import Wire, average_size, filler_docs
from bench.figures import Results, percentile, rate
from bench.kafka_io import (
    Progress,
    batch_subscriber,
    producer,
    publish_batched,
    publish_one_by_one,
    raw_consume,
    wait_for,
)
from bench.mongo_io import insert_batches
from shared.kafka.consumer import Delivery

AREA = "A. foundation"


async def run(env: BenchEnv, results: Results, wire: Sequence[Wire], *, single: int) -> str:
    """Every foundation figure, each on its own fresh topic or database.

    Returns the topic holding the N events (6 partitions), which the audit area reuses.
    """
    topic = await env.topic("foundation")
    await produce(env, results, topic, wire, single=single)
    await consume(env, results, topic, len(wire))
    await insert(env, results, len(wire))
    return topic


async def produce(
    env: BenchEnv, results: Results, topic: str, wire: Sequence[Wire], *, single: int
) -> None:
    """A1: batched durable publishes, then one-by-one durable publishes with latencies."""
    single_topic = await env.topic("single")
    async with producer(env, "producer") as publisher:
        seconds = await publish_batched(publisher, topic, wire)
        await publish_one_by_one(publisher, single_topic, wire[:1])  # metadata warm-up
        latencies = await publish_one_by_one(publisher, single_topic, wire[1 : single + 1])
    size = sum(len(w.value) for w in wire) / len(wire)
    results.add(
        AREA,
        f"A1 produce, shared publisher, gather of 1,000 (n={len(wire):,})",
        rate(len(wire), seconds),
        "msg/s",
        note=f"acks=all, idempotent; mean value {size:.0f} B; {seconds:.2f} s",
    )
    millis = [s * 1000 for s in latencies]
    results.add(
        AREA,
        f"A1 produce, one by one, awaited (n={len(latencies):,})",
        rate(len(latencies), sum(latencies)),
        "msg/s",
    )
    results.add(AREA, "A1 one-by-one publish latency p50", percentile(millis, 50), "ms")
    results.add(AREA, "A1 one-by-one publish latency p99", percentile(millis, 99), "ms")


async def consume(env: BenchEnv, results: Results, topic: str, count: int) -> None:
    """A2: raw aiokafka getmany next to a counting `subscribe_batch` subscriber."""
    got, raw_total, raw_steady = await raw_consume(env.bootstrap, topic)
    if got != count:
        raise RuntimeError(f"raw consume read {got} records, expected {count}")
    progress = Progress()

    async def count_only(deliveries: Sequence[Delivery]) -> None:
        progress.note(len(deliveries))

    async with batch_subscriber(env, "consume", topic, count_only) as started:
        await wait_for(progress, count, what="A2 subscriber")
    shared_total = progress.last_at - started
    raw_rate, shared_rate = rate(count, raw_total), rate(count, shared_total)
    results.add(
        AREA,
        "A2 consume, raw aiokafka getmany",
        raw_rate,
        "ev/s",
        note=f"{raw_total:.2f} s from start; {rate(count, raw_steady):,.0f}/s first→last",
    )
    results.add(
        AREA,
        "A2 consume, shared subscribe_batch (1,000), count only",
        shared_rate,
        "ev/s",
        note=f"{shared_total:.2f} s from broker start (incl. group join); "
        f"{progress.steady_rate():,.0f}/s after the first batch; parses every event",
    )
    results.add(AREA, "A2 ratio shared / raw", shared_rate / raw_rate, "x")


async def insert(env: BenchEnv, results: Results, count: int) -> None:
    """A3: raw insert_many of ~500-byte documents in batches of 1,000 (no secondary index)."""
    docs = filler_docs(count)
    collection = env.database("foundation")["docs"]
    seconds = await insert_batches(collection, docs)
    results.add(
        AREA,
        f"A3 raw insert_many, batches of 1,000 (n={count:,})",
        rate(count, seconds),
        "docs/s",
        note=f"{average_size(docs[:1000]):.0f} B BSON each; {seconds:.2f} s",
    )
