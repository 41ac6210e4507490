"""The fault run: 20,000 events while the audit process is SIGKILLed three times (restarted each
time) and its database pair restarted once; afterwards the ledger's entries equal the topics'
records one to one (`audit-admin verify-kafka`) and every checkpoint verifies
(`audit-admin verify-ledger`).

The audit is a real process (its console script) on a private database pair and two fresh
topics; each kill waits until the group has committed more since the last start, so every one
lands mid-ingest.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from audit_drills import (
    AuditProcess,
    DbPair,
    SteadyFlow,
    caught_up,
    committed_total,
    free_port,
    private_db,
    records_in,
)
from pymongo import AsyncMongoClient

from kits_testing import Servers, eventually
from shared.topics import dead_letter_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(280)]
TOTAL, RATE, KILLS, STEP = 20_000, 400, 3, 1_500


def audit_env(servers: Servers, pair: DbPair, topics: list[str]) -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    return {
        "AUDIT_ENVIRONMENT": "development",
        "AUDIT_LOG_LEVEL": "WARNING",
        "AUDIT_KAFKA_BOOTSTRAP_SERVERS": servers.kafka,
        "AUDIT_MONGODB_URL": pair.mongodb_url,
        "AUDIT_MONGODB_DATABASE": f"t_faults_{tag}",
        "AUDIT_LEDGER_GROUP": f"t-faults-{tag}",
        "AUDIT_LOG_ORIGIN": f"kits.audit/t-faults-{tag}",
        "AUDIT_LEDGER_TOPICS": ",".join(topics),
        "AUDIT_CHECKPOINT_EVERY": "2000",
        "AUDIT_CHECKPOINT_INTERVAL_S": "1",
        "AUDIT_CONSUMER_HOLD_S": "5",
        "AUDIT_CONSUMER_MAX_BACKOFF_S": "2",
    }


async def test_20000_events_through_three_sigkills_and_a_database_restart_lose_nothing(
    servers: Servers,
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> None:
    topics = [await make_topic(unique(f"t-faults-{n}"), partitions=3) for n in (1, 2)]
    # not tmp_path: a pytest run started meanwhile by anyone may prune this run's base temp
    with private_db("drill-faults") as pair, tempfile.TemporaryDirectory() as logs:
        env = audit_env(servers, pair, topics)
        group = env["AUDIT_LEDGER_GROUP"]
        audit = AuditProcess(env=env, log=Path(logs) / "audit.log", port=free_port())
        audit.start()
        phase = "start"
        try:
            await audit.live()
            flow = SteadyFlow(bootstrap=servers.kafka, topics=topics, per_s=RATE)
            producing = asyncio.create_task(flow.run(total=TOTAL))
            kills = 0
            for n in range(KILLS):
                phase = f"before kill {n + 1}"
                await _progressed(servers.kafka, group, topics, by=STEP)
                audit.kill()
                kills += 1
                audit.start()
                if n == 1:  # between the second and the third kill
                    phase = "before the database restart"
                    await _progressed(servers.kafka, group, topics, by=STEP)
                    await asyncio.to_thread(pair.down)
                    await asyncio.to_thread(pair.up)
            phase = "catching up"
            sent = await producing
            await caught_up(servers.kafka, group, topics, timeout_s=150)

            async def covered() -> bool:
                latest = await audit.latest_checkpoint()
                return latest is not None and sum(s["size"] for s in latest["shards"]) == sent

            phase = "waiting for the last checkpoint"
            await eventually(covered, timeout_s=30, every_s=0.5)
        except TimeoutError as exc:
            raise AssertionError(f"timed out {phase}; the audit's log:\n{audit.tail()}") from exc
        finally:
            audit.stop()
        kafka_rc, kafka = audit.admin("verify-kafka")
        ledger_rc, ledger = audit.admin("verify-ledger")
        await _drop(pair, env["AUDIT_MONGODB_DATABASE"])

    assert (kills, sent) == (KILLS, TOTAL)
    assert (kafka_rc, kafka["ok"], kafka["findings"]) == (0, True, [])
    assert (kafka["partitions"], kafka["records"], kafka["entries"]) == (6, TOTAL, TOTAL)
    assert kafka["pending"] == 0
    assert (ledger_rc, ledger["ok"], ledger["findings"]) == (0, True, [])
    assert ledger["entries_checked"] == TOTAL
    assert ledger["checkpoints"] > 1
    assert await records_in(servers.kafka, dead_letter_topic(group).name) == 0


async def _progressed(bootstrap: str, group: str, topics: list[str], *, by: int) -> None:
    """Wait until the group has committed `by` more records than now (the audit is ingesting)."""
    start = await committed_total(bootstrap, group, topics)

    async def moved() -> bool:
        return await committed_total(bootstrap, group, topics) >= min(start + by, TOTAL)

    await eventually(moved, timeout_s=90, every_s=0.2)


async def _drop(pair: DbPair, database: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(pair.mongodb_url)
    await client.drop_database(database)
    await client.close()
