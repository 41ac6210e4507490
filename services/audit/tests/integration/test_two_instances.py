"""Two live audit instances in one consumer group, with rebalances while events flow: every
record becomes exactly one entry, and every checkpoint covers the one before it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from pymongo import AsyncMongoClient

from audit.adapters.mongo_checkpoints import MongoCheckpointStore
from audit.adapters.mongo_ledger import MongoLedgerStore
from audit.bootstrap import Container, bootstrap
from audit.config import AuditSettings
from audit.entrypoints import consumers
from audit.service.integrity import full_audit
from audit.service.ports import StoredCheckpoint
from audit.service.proofs import ProofService
from audit.verify.responses import parse_consistency_response, verify_consistency_response
from audit_events import logged_in
from audit_testing import audit_settings
from kits_testing import Servers, eventually, read_topic
from shared.events import make_event
from shared.kafka.publisher import DurablePublisher

pytestmark = pytest.mark.integration
PARTITIONS = 3


async def start_instance(settings: AuditSettings, topics: list[str]) -> Container:
    """One audit process's worth: its own clients and memory, the shared group and database."""
    container = bootstrap(settings)
    consumers.register(container, topics=topics)
    await container.start()
    return container


async def produce(publisher: DurablePublisher, topics: list[str], *, count: int, tag: str) -> None:
    """`count` events spread over every partition of the topics, in bursts, as traffic flows."""
    for start in range(0, count, 50):
        sends = []
        for i in range(start, min(start + 50, count)):
            event = make_event(logged_in(f"uk_{tag}_{i:05d}"), source="/auth")
            sends.append(
                publisher.publish_raw(
                    topic=topics[i % len(topics)],
                    value=event.to_bytes(),
                    key=event.key(),
                    headers={},
                )
            )
        await asyncio.gather(*sends)
        await asyncio.sleep(0.05)


async def sure(value: bool) -> bool:
    return value


def owns_some(container: Container) -> bool:
    return bool(container.ownership.owned())


async def test_two_instances_with_rebalances_lose_and_double_nothing_and_never_regress(
    servers: Servers,
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
    producers: dict[str, DurablePublisher],
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> None:
    topics = [
        await make_topic(unique("t-ledger-a"), partitions=PARTITIONS),
        await make_topic(unique("t-ledger-b"), partitions=PARTITIONS),
    ]
    # Both instances sign checkpoints as fast as they can, so their reads of "the latest" and
    # their saves interleave (the code before the numbered chain shrank a shard 3 runs in 3).
    settings = audit_settings(
        servers, checkpoint_every=10, checkpoint_interval_s=0.01, ingest_batch=100
    )
    publisher = producers["auth"]
    first = await start_instance(settings, topics)
    second: Container | None = None
    try:
        await eventually(lambda: sure(owns_some(first)), timeout_s=30)
        await produce(publisher, topics, count=500, tag="one")
        # The second instance joins while events flow: the group rebalances mid-stream.
        flowing = asyncio.create_task(produce(publisher, topics, count=1500, tag="two"))
        second = await start_instance(settings, topics)
        await eventually(lambda: sure(owns_some(second) and owns_some(first)), timeout_s=30)
        both = (first.ownership.owned(), second.ownership.owned())
        await flowing
        # Then the first one stops while events flow: the second takes every partition.
        flowing = asyncio.create_task(produce(publisher, topics, count=700, tag="three"))
        await first.stop()
        await flowing
        await produce(publisher, topics, count=300, tag="four")
        records = await read_topics(servers, topics, count=3000)
        await eventually(lambda: all_stored(settings, records), timeout_s=90)
        await eventually(lambda: latest_covers(settings, records), timeout_s=30)
    finally:
        if second is not None:
            await second.stop()
        await first.stop()
    assert both[0]  # both were writing at once, each its own shards
    assert both[1]
    assert not both[0] & both[1]

    db = mongo_client[settings.database_name]
    try:
        ledger, store = MongoLedgerStore(db), MongoCheckpointStore(db)
        await each_record_exactly_once(ledger, records)
        chain = await store.all()
        await each_checkpoint_covers_the_one_before(ledger, store, chain, first)
        result = await full_audit(ledger=ledger, checkpoints=store, public_keys=first.public_keys())
        assert result.ok, result.findings
        assert result.entries == sum(len(rs) for rs in records.values())
    finally:
        await mongo_client.drop_database(settings.database_name)


async def read_topics(
    servers: Servers, topics: list[str], *, count: int
) -> dict[str, list[ConsumerRecord[bytes, bytes]]]:
    """Every record of every partition, by shard name, in offset order."""
    by_shard: dict[str, list[ConsumerRecord[bytes, bytes]]] = {}
    for topic in topics:
        for r in await read_topic(servers.kafka, topic, count=count // len(topics), timeout_s=30):
            by_shard.setdefault(f"{r.topic}/{r.partition}", []).append(r)
    for shard_records in by_shard.values():
        shard_records.sort(key=lambda r: r.offset)
    assert sum(len(rs) for rs in by_shard.values()) == count
    assert len(by_shard) == PARTITIONS * len(topics)
    return by_shard


async def all_stored(
    settings: AuditSettings, records: dict[str, list[ConsumerRecord[bytes, bytes]]]
) -> bool:
    from pymongo import AsyncMongoClient as Client

    client: Client[dict[str, Any]] = Client(settings.mongodb_url.get_secret_value())
    try:
        ledger = MongoLedgerStore(client[settings.database_name])
        for shard, shard_records in records.items():
            if (await ledger.tip(shard)).size < len(shard_records):
                return False
        return True
    finally:
        await client.close()


async def latest_covers(
    settings: AuditSettings, records: dict[str, list[ConsumerRecord[bytes, bytes]]]
) -> bool:
    from pymongo import AsyncMongoClient as Client

    client: Client[dict[str, Any]] = Client(settings.mongodb_url.get_secret_value(), tz_aware=True)
    try:
        latest = await MongoCheckpointStore(client[settings.database_name]).latest()
        if latest is None:
            return False
        heads = {h.shard: h.size for h in latest.checkpoint.shards}
        return all(heads.get(s, 0) >= len(rs) for s, rs in records.items())
    finally:
        await client.close()


async def each_record_exactly_once(
    ledger: MongoLedgerStore, records: dict[str, list[ConsumerRecord[bytes, bytes]]]
) -> None:
    """Compared by offset: the shard's entries are its partition's records, one each."""
    assert sorted(await ledger.shards()) == sorted(records)
    for shard, shard_records in records.items():
        entries = [e async for e in ledger.scan(shard)]
        assert [e.index for e in entries] == list(range(len(entries)))
        assert [e.offset for e in entries] == [r.offset for r in shard_records], shard
        assert [e.data for e in entries] == [r.value for r in shard_records], shard


async def each_checkpoint_covers_the_one_before(
    ledger: MongoLedgerStore,
    store: MongoCheckpointStore,
    chain: list[StoredCheckpoint],
    instance: Container,
) -> None:
    """Numbered 1..n; no shard shrinks; a consistency proof verifies between neighbours."""
    assert len(chain) > 2
    assert [c.seq for c in chain] == list(range(1, len(chain) + 1))
    proofs, keys = ProofService(ledger=ledger, checkpoints=store), instance.public_keys()
    checked = 0
    for old, new in itertools.pairwise(chain):
        new_heads = {h.shard: h for h in new.checkpoint.shards}
        for head in old.checkpoint.shards:
            assert head.shard in new_heads, (old.seq, head.shard)
            assert new_heads[head.shard].size >= head.size, (old.seq, head.shard)
            if head.size == 0:
                continue
            body = await proofs.consistency(
                old_id=old.checkpoint_id, new_id=new.checkpoint_id, shard=head.shard
            )
            verify_consistency_response(response=parse_consistency_response(body), public_keys=keys)
            checked += 1
    assert checked > 0
