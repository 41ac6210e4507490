"""`uv run python -m bench`: foundation, audit, auth, Login Kit data, consent and Sound Kit figures
on the real servers.

Needs KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL (`eval "$(python3 scripts/servers.py env)"`).
Exits 0 when every target is met and every check holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import subprocess
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from audit.bootstrap import tune_collector
from bench import (
    audit_checks,
    audit_ingest,
    audit_latency,
    audit_reports,
    auth_data,
    auth_login,
    consent,
    foundation,
    readme,
    replay_memory,
    sound_upload,
)
from bench.env import BenchEnv, read_environment
from bench.events import Wire, make_wire
from bench.figures import Results, table, write_json

QUICK_EVENTS = 10_000
DEFAULT_JSON = Path(__file__).parent / "results" / "latest.json"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="N (default 100000)")
    parser.add_argument(
        "--only",
        choices=("foundation", "audit", "auth", "auth-data", "consent", "sound"),
        help="run one area",
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run: N={QUICK_EVENTS}")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="also write JSON here")
    parser.add_argument(
        "--readme", type=Path, help="rewrite the figures block of this file (README.md)"
    )
    parser.add_argument("--single", type=int, default=1000, help="one-by-one publishes (A1)")
    parser.add_argument("--proofs", type=int, default=2000, help="inclusion proofs (B4)")
    parser.add_argument(
        "--ingest-budget-s",
        type=float,
        default=60.0,
        help="B1 stops waiting for the ledger after this many seconds (0: no limit; default 60)",
    )
    parser.add_argument(
        "--proof-budget-s",
        type=float,
        default=10.0,
        help="B4 time budget per mode, seconds (default 10)",
    )
    parser.add_argument(
        "--report-events",
        type=int,
        default=None,
        help="B6: facts of this many events before the report is timed (default 1000000, "
        "100000 with --quick)",
    )
    parser.add_argument(
        "--sound-repeats",
        type=int,
        default=None,
        help="F1/F2: files per size (1 MB, 10 MB) uploaded, fetched (default 10, 3 with --quick)",
    )
    parser.add_argument(
        "--sound-big-mb", type=int, default=100, help="F3: the upload whose RSS is sampled (MB)"
    )
    parser.add_argument("--latency-rate", type=float, default=200.0, help="B5 events/s")
    parser.add_argument(
        "--latency-seconds",
        type=float,
        default=None,
        help="B5 duration (default 10, 5 with --quick)",
    )
    parser.add_argument(
        "--batch-timeout-ms",
        type=int,
        default=50,
        help="subscribe_batch batch_timeout_ms for B5 (default 50)",
    )
    return defaults(parser, parser.parse_args(argv))


def defaults(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """Apply --quick and the defaults that depend on it; refuse a too small N."""
    if args.quick:
        args.events = QUICK_EVENTS
    if args.report_events is None:
        args.report_events = 100_000 if args.quick else 1_000_000
    if args.sound_repeats is None:
        args.sound_repeats = 3 if args.quick else 10
    if args.latency_seconds is None:
        args.latency_seconds = 5.0 if args.quick else 10.0
    if args.events < 1000:
        parser.error("--events must be at least 1000")
    return args


async def timed(results: Results, name: str, step: Callable[[], Awaitable[None]]) -> None:
    """Run one step and keep its duration in the run's facts."""
    started = time.perf_counter()
    print(f"[bench] {name} ...", flush=True)
    try:
        await step()
    except Exception as exc:  # noqa: BLE001 - report the failed step, go on with the others
        print(f"[bench] {name} FAILED: {exc!r}", flush=True)
        results.check(f"{name} ran", False, no=f"ERROR {type(exc).__name__}: {exc}"[:120])
    seconds = time.perf_counter() - started
    results.meta.setdefault("seconds", {})[name] = round(seconds, 2)
    print(f"[bench] {name} done in {seconds:.1f} s", flush=True)


async def audit(
    env: BenchEnv,
    results: Results,
    wire: list[Wire],
    args: argparse.Namespace,
    topic: str | None,
) -> None:
    """B1 to B5 in order: ingest, verify, proofs, replay (all on B1's ledger), latency; then
    B6, a user's report in a large fact store."""
    tune_collector()  # from here on this process collects garbage as the audit processes do
    holder: list[audit_ingest.Ingested] = []

    async def ingest() -> None:
        holder.append(
            await audit_ingest.run_ingest(
                env, results, wire, budget_s=args.ingest_budget_s, topic=topic
            )
        )

    await timed(results, "B1 ingest", ingest)
    if holder:
        await on_ledger(env, results, holder[0], wire, args)
    await timed(
        results,
        "B5 latency",
        lambda: audit_latency.run_latency(
            env,
            results,
            per_s=args.latency_rate,
            seconds=args.latency_seconds,
            batch_timeout_ms=args.batch_timeout_ms,
        ),
    )
    await timed(
        results,
        "B6 reports",
        lambda: audit_reports.run_reports(env, results, events=args.report_events),
    )


async def on_ledger(
    env: BenchEnv,
    results: Results,
    source: audit_ingest.Ingested,
    wire: list[Wire],
    args: argparse.Namespace,
) -> None:
    """B2, B4 and B3 on the ledger B1 built."""
    await timed(results, "B2 verify", lambda: audit_checks.run_verify(results, source))
    await timed(
        results,
        "B4 proofs",
        lambda: audit_checks.run_proofs(
            results,
            source.ledger,
            wire,
            stored_ids=source.stored_ids,
            count=args.proofs,
            concurrency=16,
            budget_s=args.proof_budget_s,
        ),
    )
    await timed(results, "B3 replay", lambda: audit_checks.run_replay(env, results, source))
    await timed(
        results, "B3 replay memory", lambda: replay_memory.run_replay_memory(env, results, source)
    )


async def run(args: argparse.Namespace, env: BenchEnv) -> Results:
    """Every selected area, then the clean-up of this run's topics and databases."""
    results = Results()
    results.meta.update(
        run_id=env.run_id,
        events=args.events,
        only=args.only,
        quick=args.quick,
        python=platform.python_version(),
        started=datetime.now(UTC).isoformat(),
        host=platform.node(),
        load_average_at_start=[round(x, 2) for x in os.getloadavg()],
    )
    wire: list[Wire] = []
    topics: list[str] = []

    async def found() -> None:
        topics.append(await foundation.run(env, results, wire, single=args.single))

    async def generate() -> None:
        wire.extend(make_wire(args.events))

    try:
        if args.only not in ("auth", "auth-data", "consent", "sound"):
            await timed(results, "generate events", generate)
        if args.only in (None, "foundation"):
            await timed(
                results,
                "A foundation",
                found,
            )
        # The services' areas run before the audit's: B6 writes a million events' facts, and
        # PostgreSQL flushes them for minutes afterwards (a 270 s checkpoint was measured),
        # which would land in the timing of whatever area came next.
        if args.only in (None, "consent"):
            await timed(results, "D consent", lambda: consent.run_consent(env, results))
        if args.only in (None, "auth"):
            await timed(results, "C1 login", lambda: auth_login.run_login(env, results))
        if args.only in (None, "sound"):
            await timed(
                results,
                "F sound",
                lambda: sound_upload.run_sound(
                    env, results, repeats=args.sound_repeats, big_mb=args.sound_big_mb
                ),
            )
        if args.only in (None, "auth-data"):
            await timed(results, "E1 Login Kit data", lambda: auth_data.run_data(env, results))
        if args.only in (None, "audit"):
            await audit(env, results, wire, args, topics[0] if topics else None)
    finally:
        await timed(results, "clean-up", env.cleanup)
    return results


def code_state() -> dict[str, object]:
    """Which code was measured: the commit, and the files changed on top of it (if any)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return done.stdout

    diff = git("diff", "HEAD", "--", "shared", "services")
    return {
        "head": git("rev-parse", "--short", "HEAD").strip(),
        "changed": git("diff", "HEAD", "--name-only", "--", "shared", "services").split(),
        "diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:16] if diff else "",
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the table, write the JSON; 1 when a target or a check failed."""
    args = parse_args(argv)
    env = BenchEnv(*read_environment())
    state = code_state()
    print(f"[bench] run {env.run_id}: N={args.events:,}, Kafka {env.bootstrap}; code {state}")
    started = time.perf_counter()
    results = asyncio.run(run(args, env))
    results.meta["code"] = state
    results.meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    wall = time.perf_counter() - started
    results.meta["wall_seconds"] = round(wall, 1)
    print(table(results))
    failed = [f.name for f in results.failed] + results.bad_checks
    print(f"\nwall time {wall:.1f} s; steps: {results.meta['seconds']}")
    print(
        f"load average at start {results.meta['load_average_at_start']}, at end "
        f"{results.meta['load_average_at_end']} (other work on this machine skews figures)"
    )
    print("ALL TARGETS MET" if not failed else f"FAILED: {'; '.join(failed)}")
    write_json(results, args.json)
    print(f"figures written to {args.json}")
    if args.readme is not None:
        readme.update(args.readme, results)
        print(f"figures block of {args.readme} rewritten")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
