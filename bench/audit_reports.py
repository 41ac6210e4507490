"""B6: a user's report in a large ledger: its cost follows that user's own facts.

The facts of `events` events (a real day's mix, 20,000 UUID-keyed users) are written straight
through the fact store (`MongoFactStore.add`, one call per 1,000 events, as ingest makes
them), not through Kafka and the ledger: only the read models decide what a report costs.
One user gets exactly 100 transfers spread over the whole run.
"""

from __future__ import annotations

import random
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.adapters.fact_chains import Chains
from audit.adapters.mongo_facts import MongoFactStore, create_fact_indexes
from audit.domain.verdict import ConsentFact, TermsFact
from audit.service.judge import Judge
from audit.service.ports import ConsentRow, Facts, TermsRow, TransferRow
from audit.service.reports import access_report
from bench.env import BenchEnv
from bench.events import APPS, BUSY_USERS, USERS, consent_id, user_keys
from bench.figures import Results, percentile, rate
from bench.ledger import CollectingPublisher

AREA = "B. audit"
BATCH = 1000
TARGET_TRANSFERS = 100
REPEATS = 5
JUDGE_BUDGET_S = 20.0
_KINDS = (("transfer", 43.9), ("granted", 5), ("renewed", 2), ("revoked", 2), ("terms", 0.1))
_OTHER = 100 - sum(w for _, w in _KINDS)  # logins, tokens, sounds: ledger entries, no facts


def _transfer(user: str, app: str, at: datetime) -> TransferRow:
    data = {
        "transfer_id": f"tr_{uuid.uuid4().hex[:12]}",
        "app_id": app,
        "pairwise_subject": f"ps_{uuid.uuid4().hex[:16]}",
        "user_key": user,
        "consent_id": consent_id(user, app),
        "consent_version": 1,
        "terms_version": "t1",
        "scopes_used": ["user.info.basic"],
        "fields_released": ["display_name", "avatar_url"],
        "purpose": "login",
        "request_id": f"rq_{uuid.uuid4().hex[:8]}",
        "released_at": at.isoformat(),
        "digest_sha256": uuid.uuid4().hex * 2,
    }
    return TransferRow(event_id=str(uuid.uuid4()), data=data, at=at)


def _batch(rng: random.Random, users: list[str], start: datetime) -> Facts:
    """The facts of 1,000 events of the mix."""
    facts = Facts(consents=[], terms=[], transfers=[])
    kinds = [k for k, _ in _KINDS] + ["other"]
    weights = [w for _, w in _KINDS] + [_OTHER]
    for i, kind in enumerate(rng.choices(kinds, weights=weights, k=BATCH)):
        at = start + timedelta(microseconds=i * 50)
        user = users[rng.randrange(BUSY_USERS if rng.random() < 0.2 else USERS)]
        app = f"app_{rng.randrange(APPS):04d}"
        if kind == "transfer":
            facts.transfers.append(_transfer(user, app, at))
        elif kind == "terms":
            facts.terms.append(TermsRow(str(uuid.uuid4()), app, TermsFact("t2", at)))
        elif kind != "other":
            version = {"granted": 1, "revoked": 2, "renewed": 3}[kind]
            fact = ConsentFact(consent_id(user, app), version, kind, at, frozenset({"a"}), "t1")  # type: ignore[arg-type]
            facts.consents.append(ConsentRow(str(uuid.uuid4()), user, app, fact))
    return facts


async def build(store: MongoFactStore, *, events: int, target: str) -> tuple[int, float]:
    """Write the facts of `events` events; the target's 100 transfers spread evenly."""
    rng, users = random.Random(11), user_keys(random.Random(7))
    batches = max(1, events // BATCH)
    every = max(1, batches // TARGET_TRANSFERS)
    start, written = datetime.now(UTC) - timedelta(days=1), 0
    started = time.perf_counter()
    for b in range(batches):
        at = start + timedelta(seconds=b * 0.1)
        facts = _batch(rng, users, at)
        if b == 0:
            grant = ConsentFact(
                consent_id(target, "app_0000"),
                1,
                "granted",
                at,
                frozenset({"user.info.basic"}),
                "t1",
            )
            facts.consents.append(ConsentRow(str(uuid.uuid4()), target, "app_0000", grant))
        if b % every == 0 and written < TARGET_TRANSFERS:
            facts.transfers.append(_transfer(target, "app_0000", at + timedelta(milliseconds=60)))
            written += 1
        await store.add(facts)
        if b and b % 100 == 0:
            print(f"[bench] B6 {b * BATCH:,} events' facts written", flush=True)
    return batches * BATCH, time.perf_counter() - started


async def latency(
    stores: Callable[[], MongoFactStore], user: str
) -> tuple[list[float], dict[str, Any]]:
    """REPEATS reports of one user, each by the store `stores` gives, milliseconds each."""
    millis, report = [], {}
    for _ in range(REPEATS):
        store = stores()
        started = time.perf_counter()
        report = await access_report(store, user_key=user)
        millis.append((time.perf_counter() - started) * 1000)
    return millis, report


async def run_reports(env: BenchEnv, results: Results, *, events: int) -> None:
    """B6: facts of `events` events, then a 100-transfer user's report, cold and warm, before
    and after their judgement; and the memory the fact store keeps."""
    db = env.database("reports")
    await create_fact_indexes(db)
    store, target = MongoFactStore(db, grace_s=0.0), str(uuid.uuid4())
    count, seconds = await build(store, events=events, target=target)
    docs = sum([await db[n].estimated_document_count() for n in await db.list_collection_names()])
    results.add(
        AREA,
        f"B6 setup: facts of {count:,} events through MongoFactStore.add",
        rate(count, seconds),
        "ev/s",
        note=f"{seconds:.1f} s; {docs:,} documents",
    )
    for when in ("before", "after"):
        if when == "after":
            judge = Judge(facts=store, publisher=CollectingPublisher())
            await judge.judge_users([target], now=datetime.now(UTC))
        modes: tuple[tuple[str, Callable[[], MongoFactStore]], ...] = (
            ("warm", lambda: store),
            ("cold", lambda: MongoFactStore(db, grace_s=0.0)),
        )
        for mode, stores in modes:
            millis, report = await latency(stores, target)
            results.check(
                f"B6 report {when} judgement lists the user's {TARGET_TRANSFERS} transfers "
                f"({len(report['transfers'])})",
                len(report["transfers"]) == TARGET_TRANSFERS,
            )
            results.add(
                AREA,
                f"B6 report, {TARGET_TRANSFERS} transfers, {when} their judgement, {mode}, p50",
                percentile(millis, 50),
                "ms",
                note=f"max {max(millis):.0f} ms of {REPEATS}; {mode}: "
                + (
                    "the store that wrote and judged (it keeps the user's chain end and tail)"
                    if mode == "warm"
                    else "a new store for each report"
                ),
            )
    memory(results, store, count)
    await judging(results, store)


async def judging(results: Results, store: MongoFactStore) -> None:
    """How many users a judge judges per second at this size (pending work of the build)."""
    saved = 0
    original = store.save_judgements

    async def counting(judged: Any) -> list[bool]:
        nonlocal saved
        won = await original(judged)
        saved += sum(won)
        return won

    setattr(store, "save_judgements", counting)  # noqa: B010 - count the judgements stored
    judge = Judge(facts=store, publisher=CollectingPublisher())
    started = time.perf_counter()
    rounds = 0
    while time.perf_counter() - started < JUDGE_BUDGET_S and await judge.run_once(limit=500):
        rounds += 1
    seconds = time.perf_counter() - started
    results.add(
        AREA,
        "B6 judge: users judged per second (rounds of 500 items)",
        rate(saved, seconds),
        "users/s",
        note=f"{saved:,} judgements in {rounds} rounds, {seconds:.1f} s (budget "
        f"{JUDGE_BUDGET_S:.0f} s); ingest names about 350 users per 1,000 events",
    )


def memory(results: Results, store: MongoFactStore, events: int) -> None:
    """What the fact store keeps in memory: one remembered end per chain (user or app)."""
    sample = Chains(None)  # type: ignore[arg-type]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(100_000):
        sample.remember(f"u:{uuid.UUID(int=i)}", 3)
    each = (tracemalloc.get_traced_memory()[0] - before) / 100_000
    tracemalloc.stop()
    known, tails = store.remembered_chains(), store.tail_bytes()
    results.add(AREA, "B6 memory per remembered chain end (user or app)", each, "B")
    results.add(
        AREA,
        f"B6 fact store memory after {events:,} events",
        (each * known + tails) / 1e6,
        "MB",
        note=f"{known:,} chain ends (one per user or app seen, at most 1,000,000: "
        f"{each:.0f} MB) and {tails / 1e6:.1f} MB of users' packed tails (at most 64 MiB); "
        "the judge keeps nothing between rounds",
    )
