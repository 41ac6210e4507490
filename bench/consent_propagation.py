"""D1: revocation propagation, from the revoke call to the first refusal by a read model in
another process (`bench/consent_reader.py`, a plain consumer of the run's consent topic).

250 consents are granted through the service (their events on the topic); once the reader has
read them all, each is revoked through the user's HTTP API, one after another, and the time
from the call to the reader applying `consent.revoked.v1` is taken (same host, wall clock).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

from bench.consent_check import AREA, Running
from bench.figures import Results, percentile

REVOCATIONS, P99_TARGET_MS = 250, 250.0


async def run_propagation(run: Running, results: Results) -> None:
    """Grant, start the reader, revoke one by one, collect the reader's refusal times."""
    granted: list[tuple[str, str]] = []
    for n in range(REVOCATIONS):
        user = str(uuid.uuid4())
        outcome = await run.container.consents.grant(
            user_key=user,
            app_id=run.apps[n % len(run.apps)],
            scopes=("user.info.basic",),
            purpose="login",
            pairwise_subject=f"ps-{uuid.uuid4().hex}",
        )
        assert outcome.consent is not None
        granted.append((user, outcome.consent.consent_id))
    reader = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.consent_reader",
        run.container.settings.kafka_bootstrap_servers,
        run.topic,
        stdout=asyncio.subprocess.PIPE,
    )
    assert reader.stdout is not None
    try:
        async with asyncio.timeout(60):
            while (await reader.stdout.readline()).strip() != b"ready":
                pass
        refused: dict[str, float] = {}
        collect = asyncio.create_task(_collect(reader.stdout, refused, REVOCATIONS))
        called: dict[str, float] = {}
        for user, consent_id in granted:
            called[consent_id] = time.time()
            answer = await run.http.post(
                f"/v1/me/consents/{consent_id}/revoke", headers=run.as_user(user)
            )
            if answer.status_code != 200:
                raise RuntimeError(f"revoke answered {answer.status_code}: {answer.text[:200]}")
        async with asyncio.timeout(30):
            await collect
    finally:
        reader.kill()
        await reader.wait()
    delays = [refused[c] - called[c] for c in called if c in refused]
    results.add(
        AREA,
        f"D1 revocation propagation p50 ({len(delays)} revocations)",
        percentile(delays, 50) * 1e3,
        "ms",
    )
    results.add(
        AREA,
        "D1 revocation propagation p99 (revoke call -> read model in another process refuses)",
        percentile(delays, 99) * 1e3,
        "ms",
        target=P99_TARGET_MS,
        compare="<=",
    )
    results.check(
        f"D1 every revocation reached the reader ({len(delays)} of {REVOCATIONS})",
        len(delays) == REVOCATIONS,
    )


async def _collect(stream: asyncio.StreamReader, refused: dict[str, float], count: int) -> None:
    while len(refused) < count:
        line = await stream.readline()
        if not line:
            return
        seen = json.loads(line)
        refused.setdefault(seen["consent_id"], seen["t"])
