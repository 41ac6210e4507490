"""B1: ledger ingest end to end through the real consumer path, next to its raw floors."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from pymongo.asynchronous.collection import AsyncCollection

from bench.env import BenchEnv
from bench.events import Wire, average_size, entry_like_docs
from bench.figures import Results, rate
from bench.kafka_io import (
    Progress,
    batch_subscriber,
    producer,
    publish_batched,
    raw_consume,
    wait_for,
)
from bench.ledger import INGEST, Ledger, Timings, fresh_ledger, timed_handler
from bench.mongo_io import insert_batches, with_entry_index
from shared.events import parse
from shared.mongo import Document

AREA = "B. audit"
INGEST_TARGET = 5000.0
RAW_SHARE_TARGET = 0.5


@dataclass
class Ingested:
    """What B1 leaves for the steps that follow."""

    topic: str
    ledger: Ledger
    raw_shard: AsyncCollection[Document]
    """One shard's worth (N/6) of entry-sized documents alone in a collection: a read floor."""
    stored_ids: set[str]
    """The event ids B1 stored (all of them unless it hit its time budget)."""


async def publish(env: BenchEnv, results: Results, wire: Sequence[Wire]) -> str:
    """A fresh topic holding the N events (when the foundation area did not make one)."""
    topic = await env.topic("ledger")
    async with producer(env, "ledger-producer") as publisher:
        seconds = await publish_batched(publisher, topic, wire)
    results.add(
        AREA,
        f"B1 setup: publish N={len(wire):,} events to 6 partitions",
        rate(len(wire), seconds),
        "msg/s",
        note=f"{seconds:.2f} s",
    )
    return topic


async def run_ingest(
    env: BenchEnv,
    results: Results,
    wire: Sequence[Wire],
    *,
    budget_s: float,
    topic: str | None,
) -> Ingested:
    """B1: measure the raw floors, then ingest the N events through subscribe_batch.

    `topic` already holds the N events (the foundation area's), or None to publish them.
    """
    if topic is None:
        topic = await publish(env, results, wire)
    else:
        print(f"[bench] B1 reads the foundation topic {topic} (the same N events)", flush=True)
    consume_rate, insert_rate, raw_shard = await floors(env, results, topic, wire)
    ledger = await fresh_ledger(env, "ledger")
    stored_ids: set[str] = set()
    ingest_s, progress = await ingest(env, topic, ledger, len(wire), budget_s, stored_ids)
    latest = await ledger.checkpoints.latest()
    signed = sum(h.size for h in latest.checkpoint.shards) if latest else 0
    results.check(
        f"B1 final checkpoint covers every appended entry ({signed:,})", signed == progress.count
    )
    ingest_figures(results, progress, ingest_s, len(wire))
    ingest_rate = rate(progress.count, ingest_s)
    calls = ledger.timings.calls[(INGEST, "handler")]
    same_rate = await same_documents_floor(results, env, ledger, calls, progress.count)
    results.add(
        AREA,
        "B1 ratio ingest / raw insert of the same documents",
        ingest_rate / same_rate,
        "x",
        target=RAW_SHARE_TARGET,
    )
    results.add(
        AREA,
        "B1 ratio ingest / raw insert of one document per entry (not the layout)",
        ingest_rate / insert_rate,
        "x",
    )
    results.add(AREA, "B1 ratio ingest / raw consume", ingest_rate / consume_rate, "x")
    breakdown(results, ledger.timings, ingest_s, wire[: progress.count])
    return Ingested(topic=topic, ledger=ledger, raw_shard=raw_shard, stored_ids=stored_ids)


async def floors(
    env: BenchEnv, results: Results, topic: str, wire: Sequence[Wire]
) -> tuple[float, float, AsyncCollection[Document]]:
    """Raw getmany of the topic and raw insert_many of entry-sized documents (rates).

    Also stores one shard's worth of those documents alone in a collection, for B2's floor.
    """
    consumed, consume_s, _ = await raw_consume(env.bootstrap, topic)
    docs = entry_like_docs(list(wire))
    raw_db = env.database("raw_entries")
    insert_s = await insert_batches(await with_entry_index(raw_db["entries"]), docs)
    await insert_batches(raw_db["shard0"], [d for d in docs if d["shard"] == "raw/0"])
    consume_rate, insert_rate = rate(consumed, consume_s), rate(len(docs), insert_s)
    results.add(AREA, "B1 raw aiokafka getmany of the same topic", consume_rate, "ev/s")
    results.add(
        AREA,
        "B1 raw insert_many of entry-sized docs, batches of 1,000",
        insert_rate,
        "docs/s",
        note=f"{average_size(docs[:1000]):.0f} B BSON each, unique (shard, index) index",
    )
    return consume_rate, insert_rate, raw_db["shard0"]


async def same_documents_floor(
    results: Results, env: BenchEnv, ledger: Ledger, calls: int, events: int
) -> float:
    """Raw `insert_many` of the very documents B1's ingest wrote (chunks, fact chains, pending
    pages), each collection's cut into as many inserts as ingest made handler calls, the
    collections of one step written concurrently as ingest does; returns events/s."""
    names = [
        n
        for n in await ledger.db.list_collection_names()
        if n.startswith(("ledger.", "facts_", "pending_"))
    ]
    docs = {n: [d async for d in ledger.db[n].find({})] for n in names}
    raw = env.database("raw_same")
    steps = max(1, calls)
    pieces = {
        n: [ds[i * len(ds) // steps : (i + 1) * len(ds) // steps] for i in range(steps)]
        for n, ds in docs.items()
    }
    started = time.perf_counter()
    for i in range(steps):
        await asyncio.gather(
            *(raw[n].insert_many(p[i], ordered=False) for n, p in pieces.items() if p[i])
        )
    seconds = time.perf_counter() - started
    total = sum(len(ds) for ds in docs.values())
    results.add(
        AREA,
        "B1 raw insert_many of the same documents ingest wrote",
        rate(events, seconds),
        "ev/s",
        note=f"{total:,} documents in {len(names)} collections, {steps:,} steps; "
        f"{total / max(1, events) * 1000:.0f} documents per 1,000 events",
    )
    return rate(events, seconds)


def ingest_figures(results: Results, progress: Progress, seconds: float, wanted: int) -> None:
    """The ingest rate (target), and how it changed as the ledger grew."""
    cut = (
        ""
        if progress.count >= wanted
        else (f"; STOPPED BY THE TIME BUDGET with {progress.count:,} of {wanted:,} stored")
    )
    results.add(
        AREA,
        f"B1 ledger ingest, end to end (subscribe_batch 1,000; {progress.count:,})",
        rate(progress.count, seconds),
        "ev/s",
        target=INGEST_TARGET,
        note=f"{seconds:.2f} s from broker start to the last entry stored; "
        f"{progress.steady_rate():,.0f}/s after the first batch{cut}",
    )
    for where in ("first", "middle", "last"):
        window_rate, at = progress.window_rate(where)
        results.add(
            AREA,
            f"B1   rate over the {where} tenth of batches (from {at:,} stored)",
            window_rate,
            "ev/s",
        )


async def ingest(
    env: BenchEnv, topic: str, ledger: Ledger, count: int, budget_s: float, stored_ids: set[str]
) -> tuple[float, Progress]:
    """Run LedgerIngest under subscribe_batch (checkpointer running) until `count` are stored.

    Stops early when `budget_s` (if > 0) has passed; a final checkpoint covers what is stored.
    """
    progress = Progress()

    def appended(done: int) -> None:
        progress.note(done)
        checkpointer.note(done)

    handler = ledger.ingest(appended)
    checkpointer = ledger.checkpointer(handler, every=max(1000, count // 4))
    task = asyncio.create_task(checkpointer.run())
    try:
        async with batch_subscriber(
            env, "ledger", topic, timed_handler(handler, ledger.timings, stored_ids), mirror=True
        ) as started:
            deadline = started + budget_s if budget_s > 0 else float("inf")
            await wait_for(progress, count, what="B1 ingest", deadline=deadline)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await checkpointer.checkpoint()  # the final heads, so every entry is covered
    return progress.last_at - started, progress


def breakdown(results: Results, timings: Timings, wall_s: float, wire: Sequence[Wire]) -> None:
    """Where B1's wall time went: store calls inside the handler, Python, and outside it."""
    sample = [w.value for w in wire[:2000]]
    started = time.perf_counter()
    for raw in sample:
        parse(raw)
    parse_s = (time.perf_counter() - started) / max(1, len(sample)) * len(wire)
    handler = timings.seconds[(INGEST, "handler")]
    batches = timings.calls[(INGEST, "handler")]
    steps = timings.steps(INGEST)
    busy = timings.busy.get(INGEST, 0.0)
    parts = {
        **{f"{step} (calls overlap)": seconds for step, seconds in sorted(steps.items())},
        "store calls in flight (at least one)": busy,
        "LedgerIngest Python (tree hashing, chunk encoding)": handler - busy,
        "outside the handler (fetch, parse, commit)": wall_s - handler,
        "  of which parsing the events (estimated)": parse_s,
    }
    for name, seconds in parts.items():
        results.add(
            "B1 breakdown",
            name,
            seconds,
            "s",
            note=f"{100 * seconds / wall_s:.0f}% of the wall time; "
            f"{1000 * seconds / max(1, batches):,.1f} ms per batch",
        )
    results.add(
        "B1 breakdown",
        "handler calls (batches)",
        batches,
        "calls",
        note=f"{len(wire) / max(1, batches):,.0f} events per batch on average",
    )
