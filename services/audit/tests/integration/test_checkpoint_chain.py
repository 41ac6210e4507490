"""Several writers of checkpoints: the latest never shrinks, a revoked shard is never signed
from stale memory, and a shard assigned again is reloaded before it is appended to."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka import TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.kafka_rebalance import ShardOwnership
from audit.adapters.mongo_checkpoints import MongoCheckpointStore
from audit.adapters.mongo_facts import MongoFactStore, create_fact_indexes
from audit.adapters.mongo_ledger import MongoLedgerStore, create_ledger_indexes
from audit.service.checkpoints import Checkpointer
from audit.service.ingest import LedgerIngest
from audit.service.ports import StoredCheckpoint
from audit.service.trees import shard_head
from audit_events import logged_in
from shared.events import make_event
from shared.kafka.consumer import Origin, Received

pytestmark = pytest.mark.integration
TOPIC, PARTITION = "chain.test", 3
SHARD = f"{TOPIC}/{PARTITION}"
KEY = Ed25519PrivateKey.generate()


class FakePublisher:
    async def publish(self, event: Any, *, traceparent: str | None = None) -> None:
        return None


class Interleaved(MongoCheckpointStore):
    """The real store; `meanwhile` runs once, right after the next `latest()` has read."""

    meanwhile: Callable[[], Awaitable[Any]] | None = None

    async def latest(self) -> StoredCheckpoint | None:
        found = await super().latest()
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            await run()
        return found


def deliveries(start: int, stop: int) -> list[Received]:
    out = []
    for offset in range(start, stop):
        event = make_event(logged_in(f"uk_chain_{offset:04d}"), source="/auth")
        origin = Origin(TOPIC, PARTITION, offset, event.key(), 0)
        out.append(Received(origin=origin, raw=event.to_bytes(), event=event, fault=None))
    return out


class Instance:
    """One audit instance's ledger objects over the shared database (nothing shared in memory)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, store: MongoCheckpointStore) -> None:
        self.ledger = MongoLedgerStore(db)
        self.ingest = LedgerIngest(ledger=self.ledger, facts=MongoFactStore(db, grace_s=0))
        self.ownership = ShardOwnership(forget=self.ingest.forget, release=self.ledger.forget)
        self.checkpointer = Checkpointer(
            ledger=self.ledger,
            store=store,
            publisher=FakePublisher(),
            key=KEY,
            origin="test/chain",
            every=10,
            interval_s=60,
            live_heads=lambda: self.ownership.live(self.ingest.heads()),
            owned=self.ownership.owned,
        )


@pytest.fixture
async def ledger_db(db: AsyncDatabase[dict[str, Any]]) -> AsyncDatabase[dict[str, Any]]:
    await create_ledger_indexes(db)
    await create_fact_indexes(db)
    return db


async def test_a_checkpoint_read_before_another_instance_saved_does_not_shrink_the_latest(
    ledger_db: AsyncDatabase[dict[str, Any]],
) -> None:
    """The race of the issue: A reads the latest, B saves 200, A saves 150. A has not heard
    of the revocation yet (its rebalance callback runs later): the chain alone settles it."""
    a = Instance(ledger_db, store=Interleaved(ledger_db))
    b = Instance(ledger_db, store=MongoCheckpointStore(ledger_db))
    tp = TopicPartition(TOPIC, PARTITION)
    await a.ownership.on_partitions_assigned([tp])
    await a.ingest(deliveries(0, 100))
    first = await a.checkpointer.checkpoint()
    assert first is not None
    assert first.checkpoint.shard_head(SHARD).size == 100
    await a.ingest(deliveries(100, 150))
    # The partition moves to B while A is signing: B appends and signs between A's read of
    # the latest checkpoint and A's save.
    await b.ownership.on_partitions_assigned([tp])
    await b.ingest(deliveries(150, 200))
    assert isinstance(a.checkpointer._store, Interleaved)
    a.checkpointer._store.meanwhile = b.checkpointer.checkpoint
    await a.checkpointer.checkpoint()

    store = MongoCheckpointStore(ledger_db)
    latest = await store.latest()
    assert latest is not None
    assert latest.checkpoint.shard_head(SHARD).size == 200
    chain = await store.all()
    assert [c.seq for c in chain] == list(range(1, len(chain) + 1))
    sizes = [c.checkpoint.shard_head(SHARD).size for c in chain]
    assert sizes == sorted(sizes)


async def test_many_checkpointers_at_once_build_one_chain_that_never_shrinks(
    ledger_db: AsyncDatabase[dict[str, Any]],
) -> None:
    """Eight instances sign at once, each seeing the shard at a different size."""
    store = MongoCheckpointStore(ledger_db)
    writer = Instance(ledger_db, store=store)
    await writer.ownership.on_partitions_assigned([TopicPartition(TOPIC, PARTITION)])
    await writer.ingest(deliveries(0, 10))
    views = []
    for size in range(10, 90, 10):  # each a view of the shard at another moment
        await writer.ingest(deliveries(size, size + 10))
        view = Instance(ledger_db, store=store)
        await view.ownership.on_partitions_assigned([TopicPartition(TOPIC, PARTITION)])
        view.checkpointer._live = functools.partial(
            dict, {SHARD: await shard_head(view.ledger, SHARD)}
        )
        views.append(view)
    for _ in range(3):
        await asyncio.gather(*(v.checkpointer.checkpoint() for v in reversed(views)))
    chain = await store.all()
    assert [c.seq for c in chain] == list(range(1, len(chain) + 1))
    sizes = [c.checkpoint.shard_head(SHARD).size for c in chain]
    assert sizes == sorted(sizes)
    assert sizes[-1] == 90
    latest = await store.latest()
    assert latest is not None
    assert latest.checkpoint_id == chain[-1].checkpoint_id


async def test_a_revoked_shard_is_not_signed_from_memory_and_is_reloaded_when_assigned_again(
    ledger_db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = MongoCheckpointStore(ledger_db)
    a, b = Instance(ledger_db, store=store), Instance(ledger_db, store=store)
    tp = TopicPartition(TOPIC, PARTITION)
    await a.ownership.on_partitions_assigned([tp])
    await a.ingest(deliveries(0, 150))
    await a.ownership.on_partitions_revoked([tp])
    assert SHARD not in a.ingest.heads()
    await b.ownership.on_partitions_assigned([tp])
    await b.ingest(deliveries(150, 200))
    # B has not signed yet: A holds nothing of the shard it no longer writes, so it signs none
    # of it (signing 150 now would sign a head the store has left behind).
    assert await a.checkpointer.checkpoint() is None
    signed = await b.checkpointer.checkpoint()
    assert signed is not None
    assert signed.checkpoint.shard_head(SHARD).size == 200
    # Back to A (B revoked first, as the group does): A appends at once, with no clash.
    await b.ownership.on_partitions_revoked([tp])
    await a.ownership.on_partitions_assigned([tp])
    await a.ingest(deliveries(200, 210))  # a stale A would write at 150 and clash
    assert a.ingest.heads()[SHARD].size == 210
    after = await a.checkpointer.checkpoint()
    assert after is not None
    assert after.seq == signed.seq + 1
    assert after.checkpoint.shard_head(SHARD).size == 210
