"""B3 memory: `audit-admin replay` as an operator runs it, in a process of its own, and its peak
memory, next to an idle process with the same imports.

The peak is the child's `VmHWM` (Linux, /proc/self/status): `ru_maxrss` is not reset by exec,
so a child of the large bench process would report the bench's own peak.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

from bench.audit_ingest import Ingested
from bench.env import BenchEnv
from bench.figures import Results

AREA = "B. audit"
_RUN = (
    "import sys\n"
    "from audit.entrypoints.cli import main\n"
    "code = main(sys.argv[1:]) if len(sys.argv) > 1 else 0\n"
    "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
    "print('maxrss-kib', hwm[0] if hwm else -1, file=sys.stderr)\n"
    "raise SystemExit(code)\n"
)


def _peak_kib(args: list[str], env: dict[str, str]) -> tuple[int, int, float]:
    """(peak KiB, exit code, seconds) of one run of the snippet with these arguments."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("maxrss-kib ")]
    peak = int(lines[-1].split()[1]) if lines else -1
    return peak, done.returncode, time.perf_counter() - started


async def run_replay_memory(env: BenchEnv, results: Results, source: Ingested) -> None:
    """The replay command over B1's topic into a fresh database: its peak memory."""
    into = env.database("replay_memory").name  # registered, so the clean-up drops it
    child = {
        **os.environ,
        "AUDIT_ENVIRONMENT": "development",
        "AUDIT_KAFKA_BOOTSTRAP_SERVERS": env.bootstrap,
        "AUDIT_MONGODB_URL": env.mongo_url,
        "AUDIT_MONGODB_DATABASE": source.ledger.db.name,
        "AUDIT_LEDGER_TOPICS": source.topic,
        "AUDIT_LOG_LEVEL": "WARNING",
        # B1 publishes no checkpoints: compare none (not those other ledgers left on the topic)
        "AUDIT_LOG_ORIGIN": f"bench/{env.run_id}",
    }
    idle, _, _ = await asyncio.to_thread(_peak_kib, [], child)
    peak, code, seconds = await asyncio.to_thread(_peak_kib, ["replay", "--into", into], child)
    results.check(f"B3 audit-admin replay exits 0 (exit {code})", code == 0)
    events = len(source.stored_ids)
    results.add(
        AREA,
        f"B3 replay's peak memory (audit-admin replay of {events:,} events, a process)",
        peak / 1024,
        "MiB",
        note=f"{seconds:.1f} s; an idle process with the same imports peaks at "
        f"{idle / 1024:.1f} MiB, so replay adds {(peak - idle) / 1024:.1f} MiB "
        f"({(peak - idle) * 1024 / max(events, 1):,.0f} B an event)",
    )
