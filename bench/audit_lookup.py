"""Entry lookups by event id, and the memory a ledger store holds per entry.

    uv run python -m bench.audit_lookup [--entries 100000] [--shards 8]

Builds a ledger of UUID-id entries in chunks of 50 (an ingest batch spread over many shards)
in a fresh database, then times a miss (an unknown event id) in a fresh store, in a store that
holds two shards (an instance that writes them), and with a partition given (that partition's
shards are loaded); and measures with tracemalloc what a store holds once every shard is loaded.
Prints JSON; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
import tracemalloc
import uuid
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.mongo_ledger import MongoLedgerStore, create_ledger_indexes
from audit.domain.ledger import Record, ShardLog
from audit.domain.merkle import CompactRange

CHUNK = 50


def _event(event_id: str) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "type": "auth.user_logged_in.v1",
            "source": "/auth",
            "subject": f"uk_{uuid.uuid4()}",
            "time": "2026-12-02T01:00:00Z",
            "data": {"user_key": str(uuid.uuid4()), "session_id": uuid.uuid4().hex},
        }
    ).encode()


async def build(db: AsyncDatabase[dict[str, Any]], *, shards: list[str], per_shard: int) -> None:
    """Every shard filled with `per_shard` entries, a chunk of CHUNK at a time."""
    await create_ledger_indexes(db)
    store = MongoLedgerStore(db)
    for shard in shards:
        log = ShardLog(shard=shard, tree=CompactRange())
        for start in range(0, per_shard, CHUNK):
            ids = [str(uuid.uuid4()) for _ in range(start, min(start + CHUNK, per_shard))]
            await store.append(
                [
                    log.append(Record(event_id=i, shard=shard, offset=start + n, data=_event(i)))
                    for n, i in enumerate(ids)
                ]
            )


async def _timed_miss(store: MongoLedgerStore, *, partition: int | None = None) -> float:
    start = time.perf_counter()
    assert await store.entry(str(uuid.uuid4()), partition=partition) is None
    return round((time.perf_counter() - start) * 1000, 2)


async def measure(db: AsyncDatabase[dict[str, Any]], *, shards: list[str]) -> dict[str, Any]:
    """Miss timings (ms) and the bytes a store holds per entry with every shard loaded."""
    warm = MongoLedgerStore(db)
    for shard in shards[:2]:
        await warm.tip(shard)
    figures: dict[str, Any] = {
        "miss_fresh_store_ms": await _timed_miss(MongoLedgerStore(db)),
        "miss_two_shards_held_ms": await _timed_miss(warm),
        "miss_with_partition_first_ms": await _timed_miss(warm, partition=1),
        "miss_with_partition_again_ms": await _timed_miss(warm, partition=1),
    }
    gc.collect()
    full = MongoLedgerStore(db)
    tracemalloc.start()
    entries = sum([(await full.tip(shard)).size for shard in shards])
    gc.collect()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures["entries"] = entries
    figures["bytes_per_entry"] = round(held / entries, 1)
    figures["mb_per_million_entries"] = round(held / entries, 1)  # bytes/entry = MB/million
    return figures


async def main(argv: list[str]) -> None:
    """Build, measure, print, drop."""
    parser = argparse.ArgumentParser(prog="bench.audit_lookup", description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=8)
    args = parser.parse_args(argv)
    shards = [f"bench.lookup{t}/{p}" for t in range(2) for p in range(args.shards // 2)]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27018/"), tz_aware=True
    )
    name = f"bench_lookup_{uuid.uuid4().hex[:8]}"
    try:
        start = time.perf_counter()
        await build(client[name], shards=shards, per_shard=args.entries // len(shards))
        figures = {"build_s": round(time.perf_counter() - start, 1)}
        figures |= await measure(client[name], shards=shards)
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")
    finally:
        await client.drop_database(name)
        await client.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
