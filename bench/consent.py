"""D. consent: D1 revocation propagation and D2 check throughput on one running service."""

from __future__ import annotations

from bench.consent_check import run_checks, running, seed
from bench.consent_propagation import run_propagation
from bench.env import BenchEnv
from bench.figures import Results


async def run_consent(env: BenchEnv, results: Results) -> None:
    """Start the service on this run's database and topics, seed, then D2 and D1."""
    async with running(env) as run:
        pairs = await seed(run)
        await run_checks(run, results, pairs)
        await run_propagation(run, results)
