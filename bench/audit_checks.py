"""B2 full verification, B3 replay into another database, B4 proof serving, on B1's ledger."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING

from audit.adapters.kafka_records import KafkaRecords
from audit.adapters.mongo_ledger import shard_collection
from audit.domain.ledger import shard_name
from audit.service.ingest import LedgerIngest
from audit.service.integrity import full_audit
from audit.service.ports import StoredCheckpoint
from audit.service.proofs import ProofService
from audit.service.replay import ReplayReport, compare
from audit.verify.errors import VerifyError
from audit.verify.responses import parse_inclusion_response, verify_inclusion_response
from bench.audit_ingest import Ingested
from bench.env import BenchEnv
from bench.events import Wire
from bench.figures import Results, percentile, rate
from bench.ledger import Ledger, fresh_ledger
from shared.kafka.consumer import receive

AREA = "B. audit"
VERIFY_TARGET = 50_000.0
REPLAY_BATCH = 2000


async def run_verify(results: Results, source: Ingested) -> None:
    """B2: full_audit over the ingested ledger and its signed checkpoints, next to a raw read."""
    ledger = source.ledger
    started = time.perf_counter()
    audit = await full_audit(
        ledger=ledger.ledger, checkpoints=ledger.checkpoints, public_keys=ledger.public_keys()
    )
    seconds = time.perf_counter() - started
    verify_rate = rate(audit.entries, seconds)
    results.add(
        AREA,
        f"B2 full_audit ({audit.entries:,} entries, {audit.shards} shards)",
        verify_rate,
        "entries/s",
        target=VERIFY_TARGET,
        note=f"{seconds:.2f} s; {audit.checkpoints} signed checkpoints as anchors",
    )
    results.check(f"B2 full_audit finds nothing ({len(audit.findings)} findings)", audit.ok)
    results.check(
        f"B2 full_audit read every stored entry ({audit.entries:,})",
        audit.entries == len(source.stored_ids),
    )
    read, read_s = await raw_read(ledger)
    floor = rate(read, read_s)
    results.add(
        AREA,
        f"B2 floor: raw find() of every stored chunk ({read:,} entries)",
        floor,
        "entries/s",
        note="the ledger's own documents, neither decompressed nor checked",
    )
    results.add(AREA, "B2 ratio full_audit / raw read of the chunks", verify_rate / floor, "x")
    started = time.perf_counter()
    cursor = source.raw_shard.find({}).sort("index", ASCENDING)
    docs = len([doc async for doc in cursor])
    results.add(
        AREA,
        f"B2 for comparison: one document per entry, raw find().sort(index) ({docs:,})",
        rate(docs, time.perf_counter() - started),
        "docs/s",
        note="N/6 entry-sized docs alone in a collection: the layout chunks replaced",
    )


async def raw_read(ledger: Ledger) -> tuple[int, float]:
    """Entries in every stored chunk of the ledger, read raw, and the seconds it took."""
    started, entries = time.perf_counter(), 0
    for shard in await ledger.ledger.shards():
        async for doc in ledger.db[shard_collection(shard)].find({}):
            entries += int(doc["n"])
    return entries, time.perf_counter() - started


async def run_replay(env: BenchEnv, results: Results, source: Ingested) -> None:
    """B3: read the topic, parse and ingest into a fresh database; roots must be the same.

    Replays the records B1 stored (all of them unless B1 hit its time budget).
    """
    latest = await source.ledger.checkpoints.latest()
    sizes = {h.shard: h.size for h in latest.checkpoint.shards} if latest else {}
    target = await fresh_ledger(env, "replay")
    ingest = target.ingest()
    started = time.perf_counter()
    records_of = KafkaRecords(bootstrap=env.bootstrap)
    read_at, events, parse_s, read_s = time.perf_counter(), 0, 0.0, 0.0
    for topic, partition in await records_of.partitions([source.topic]):
        left = sizes.get(shard_name(topic=topic, partition=partition), 0)
        batches = records_of.read(topic, partition, batch=REPLAY_BATCH)
        while left > 0:
            read_started = time.perf_counter()
            records = (await anext(batches))[:left]
            parse_started = time.perf_counter()
            read_s += parse_started - read_started
            parsed = [receive(r) for r in records]
            parse_s += time.perf_counter() - parse_started
            events += len(records)
            left -= len(records)
            await ingest(parsed)
        await batches.aclose()
    read_at = started + read_s
    seconds = time.perf_counter() - started
    ingest_s = seconds - (read_at - started) - parse_s
    results.add(
        AREA,
        f"B3 replay: KafkaRecords.read + receive + LedgerIngest ({events:,})",
        rate(events, seconds),
        "ev/s",
        note=f"{seconds:.2f} s: read {read_at - started:.2f} s, parse {parse_s:.2f} s, "
        f"ingest {ingest_s:.2f} s (of which store calls in flight "
        f"{target.timings.busy.get('', 0.0):.2f} s; batches of {REPLAY_BATCH:,})",
    )
    await compare_roots(results, source.ledger, target, latest, ingest)


async def compare_roots(
    results: Results,
    stored: Ledger,
    rebuilt: Ledger,
    latest: StoredCheckpoint | None,
    ingest: LedgerIngest,
) -> None:
    """The rebuilt heads against the checkpoint signed over the whole ingested ledger.

    Uses the rebuilt ingest's own heads when it has them (no reads); else the replay's
    `compare` (a size and a root read per shard).
    """
    expected = {h.shard: (h.size, h.root) for h in latest.checkpoint.shards} if latest else {}
    live = getattr(ingest, "heads", None)
    if live is not None:
        heads = {s: (h.size, h.root) for s, h in live().items()}
        ok, how = bool(expected) and heads == expected, "in-memory heads"
    else:
        report = ReplayReport()
        checkpoints = [(latest.checkpoint_id, latest.checkpoint)] if latest else []
        await compare(
            ledger=rebuilt.ledger,
            checkpoints=checkpoints,
            public_keys=stored.public_keys(),
            report=report,
            stored=stored.ledger,
        )
        ok, how = bool(expected) and report.ok and report.heads == len(expected), "compare()"
    results.check(
        f"B3 replayed roots = ingested roots ({len(expected)} shards, {how})",
        ok,
        yes="MATCH",
        no="MISMATCH",
    )


async def run_proofs(
    results: Results,
    ledger: Ledger,
    wire: Sequence[Wire],
    *,
    stored_ids: set[str],
    count: int,
    concurrency: int,
    budget_s: float,
) -> None:
    """B4: inclusion proofs against the latest checkpoint, sequential then concurrent.

    Each mode serves `count` random entries or stops when `budget_s` has passed.
    """
    service = ProofService(ledger=ledger.ledger, checkpoints=ledger.checkpoints)
    stored = [w.id for w in wire if w.id in stored_ids]
    ids = random.Random(3).sample(stored, k=min(count, len(stored)))
    bodies: dict[str, dict[str, Any]] = {}
    for workers in (1, concurrency):
        ledger.timings.reset()
        started = time.perf_counter()
        latencies = await serve(service, ids, bodies, workers, deadline=started + budget_s)
        mode = "sequential" if workers == 1 else f"{workers} concurrent"
        proof_figures(results, mode, latencies, time.perf_counter() - started, len(ids))
        if workers == 1:
            timings = ledger.timings
            results.add(
                AREA,
                "B4   sequential: mean in LedgerStore.entry (index in memory, chunk by _id)",
                timings.mean_ms("LedgerStore.entry"),
                "ms",
            )
    verify_sample(results, ledger, wire, bodies)


async def serve(
    service: ProofService,
    ids: Sequence[str],
    bodies: dict[str, dict[str, Any]],
    workers: int,
    *,
    deadline: float,
) -> list[float]:
    """Serve proofs of `ids` with `workers` concurrent callers until done or the deadline."""
    todo, latencies = list(reversed(ids)), []

    async def worker() -> None:
        while todo and time.perf_counter() < deadline:
            event_id = todo.pop()
            started = time.perf_counter()
            bodies[event_id] = await service.inclusion(event_id, checkpoint_id=None)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return latencies


def proof_figures(
    results: Results, mode: str, latencies: Sequence[float], wall_s: float, wanted: int
) -> None:
    """Throughput and latency of one proof-serving mode."""
    millis = [s * 1000 for s in latencies]
    name = f"B4 inclusion proofs, {mode} ({len(latencies):,} of {wanted:,})"
    cut = "" if len(latencies) == wanted else "; stopped by the time budget"
    results.add(AREA, name, rate(len(latencies), wall_s), "proofs/s", note=f"{wall_s:.1f} s{cut}")
    results.add(AREA, f"B4   {mode}: p50", percentile(millis, 50), "ms")
    results.add(AREA, f"B4   {mode}: p99", percentile(millis, 99), "ms")


def verify_sample(
    results: Results,
    ledger: Ledger,
    wire: Sequence[Wire],
    bodies: dict[str, dict[str, Any]],
    *,
    sample: int = 200,
) -> None:
    """Check a sample of the served proofs as a third party would, from their JSON."""
    sent = {w.id: w.value for w in wire}
    keys, valid = ledger.public_keys(), 0
    chosen = list(bodies.items())[:sample]
    started = time.perf_counter()
    for event_id, body in chosen:
        try:
            response = parse_inclusion_response(json.loads(json.dumps(body)))
            verify_inclusion_response(response=response, public_keys=keys)
        except VerifyError:
            continue
        valid += response.entry.id == event_id and response.entry.data == sent[event_id]
    seconds = time.perf_counter() - started
    results.add(
        AREA,
        f"B4 client-side proof verification ({len(chosen)})",
        rate(len(chosen), seconds),
        "proofs/s",
    )
    results.check(
        f"B4 served proofs verify ({valid} of {len(chosen)})",
        valid == len(chosen),
        yes="VALID",
        no="INVALID",
    )
