"""PostgreSQL stopped for 30 s under FerretDB mid-ingest: the ledger is whole afterwards, and
nothing was dead-lettered (the outage is not the records' fault).

The audit runs in process on a private database pair (stopping the shared one would break every
other test) and mirrors two fresh topics; a steady producer publishes 200 events/s for 60 s; the
consumer hands a blocked batch back to Kafka after 5 s (`hold_s`), so the hand-back is part of
the drill.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from audit_drills import DbPair, SteadyFlow, caught_up, private_db, records_in
from pymongo import AsyncMongoClient

from audit.adapters.kafka_records import KafkaRecords
from audit.bootstrap import Container
from audit.main import create_app
from audit.service.integrity import full_audit
from audit.service.mirror import compare_with_topics
from audit_testing import audit_settings
from kits_testing import Servers, eventually
from shared.kafka.consumer import Blocked
from shared.topics import dead_letter_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(280)]
RATE, SECONDS, OUTAGE_AT_S, OUTAGE_S, HOLD_S = 200, 60, 15, 30, 5.0


async def test_postgres_stopped_for_30_s_mid_ingest_leaves_the_ledger_whole_and_no_dead_letter(
    servers: Servers,
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    topics = [await make_topic(unique(f"t-outage-{n}"), partitions=3) for n in (1, 2)]
    caplog.set_level(logging.WARNING, logger="shared.kafka.consumer")
    with private_db("drill-outage") as pair:
        settings = audit_settings(
            servers,
            mongodb_url=pair.mongodb_url,
            ledger_topics=",".join(topics),
            consumer_hold_s=HOLD_S,
            consumer_max_backoff_s=2.0,
            checkpoint_every=500,
        )
        app = create_app(settings)
        container: Container = app.state.container
        async with app.router.lifespan_context(app):
            flow = SteadyFlow(bootstrap=servers.kafka, topics=topics, per_s=RATE)
            producing = asyncio.create_task(flow.run(total=RATE * SECONDS))
            await asyncio.sleep(OUTAGE_AT_S)
            during = await _outage(pair, container, topics)
            sent = await producing
            await caught_up(servers.kafka, settings.ledger_group, topics)
            await _verify(container, topics, sent=sent)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(pair.mongodb_url)
        await client.drop_database(settings.database_name)
        await client.close()

    assert sent == RATE * SECONDS
    assert during["committed_moved"] is False  # the outage was felt: nothing committed meanwhile
    retries = [r for r in caplog.records if r.getMessage() == "consumer blocked: retrying"]
    assert max(getattr(r, "attempt", 0) for r in retries) > 5  # retried past hand-backs
    handed_back = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], Blocked)]
    assert handed_back  # a batch outlasted hold_s and went back to Kafka, then came again
    dlq = dead_letter_topic(settings.ledger_group).name
    assert await records_in(servers.kafka, dlq) == 0  # nothing was dead-lettered


async def _outage(pair: DbPair, container: Container, topics: list[str]) -> dict[str, bool]:
    """Stop PostgreSQL (FerretDB stays up), keep it down OUTAGE_S, start it again."""
    source = KafkaRecords(bootstrap=container.settings.kafka_bootstrap_servers)
    group = container.settings.ledger_group
    await asyncio.to_thread(pair.down, only="postgres")
    await asyncio.sleep(3)  # let the consumer's in-flight batch meet the outage
    before = await source.committed(group, topics)
    await asyncio.sleep(OUTAGE_S - 3)
    after = await source.committed(group, topics)
    await asyncio.to_thread(pair.up, only="postgres")
    return {"committed_moved": before != after}


async def _verify(container: Container, topics: list[str], *, sent: int) -> None:
    """One entry per record at its place, every checkpoint verifies, the last covers all."""
    settings = container.settings
    source = KafkaRecords(bootstrap=settings.kafka_bootstrap_servers)
    committed = await source.committed(settings.ledger_group, topics)
    report = await compare_with_topics(
        ledger=container.ledger, source=source, topics=topics, committed=committed
    )
    assert report.findings == []
    assert (report.partitions, report.records, report.entries) == (6, sent, sent)
    assert report.pending == 0

    async def covered() -> bool:
        latest = await container.checkpoints.latest()
        return latest is not None and sum(h.size for h in latest.checkpoint.shards) == sent

    await eventually(covered, timeout_s=30, every_s=0.5)  # the checkpointer outlived the outage
    result = await full_audit(
        ledger=container.ledger,
        checkpoints=container.checkpoints,
        public_keys=container.public_keys(),
    )
    assert result.findings == []
    assert (result.entries, result.shards) == (sent, 6)
    assert result.checkpoints > 1
