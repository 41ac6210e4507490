"""An entry lookup reads a bounded number of chunks: a miss never loads every shard."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.mongo_ledger import MongoLedgerStore, create_ledger_indexes
from audit.domain.ledger import Entry, Record, ShardLog
from audit.domain.merkle import CompactRange
from kits_testing import Servers

pytestmark = pytest.mark.integration
SHARDS = [f"lookup.t{t}/{p}" for t in range(2) for p in range(3)]
PER_SHARD, CHUNK = 200, 10


class ChunkReads(monitoring.CommandListener):
    """Counts the ledger chunks the server sends back (a real client's command events)."""

    def __init__(self) -> None:
        self.documents = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        return None

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        cursor = event.reply.get("cursor") if event.command_name in {"find", "getMore"} else None
        if cursor and str(cursor.get("ns", "")).split(".", 1)[-1].startswith("ledger."):
            self.documents += len(cursor.get("firstBatch", cursor.get("nextBatch", [])))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


def shard_entries(shard: str, start: int, stop: int, log: ShardLog) -> list[Entry]:
    return [
        log.append(Record(event_id=str(uuid.uuid4()), shard=shard, offset=i, data=b"{}"))
        for i in range(start, stop)
    ]


@pytest.fixture
async def monitored(
    servers: Servers, db: AsyncDatabase[dict[str, Any]]
) -> AsyncIterator[tuple[MongoLedgerStore, ChunkReads]]:
    """A second client on the test's database whose chunk reads are counted."""
    reads = ChunkReads()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        servers.mongodb_url, event_listeners=[reads], tz_aware=True
    )
    yield MongoLedgerStore(client[db.name]), reads
    await client.close()


async def test_a_miss_reads_only_what_is_new_in_the_shards_held_and_a_partition_its_own(
    db: AsyncDatabase[dict[str, Any]], monitored: tuple[MongoLedgerStore, ChunkReads]
) -> None:
    await create_ledger_indexes(db)
    writer, logs = MongoLedgerStore(db), {s: ShardLog(shard=s, tree=CompactRange()) for s in SHARDS}
    stored: dict[str, list[Entry]] = {}
    for shard in SHARDS:
        stored[shard] = []
        for start in range(0, PER_SHARD, CHUNK):
            chunk = shard_entries(shard, start, start + CHUNK, logs[shard])
            await writer.append(chunk)
            stored[shard] += chunk
    store, reads = monitored
    mine = SHARDS[0]  # the shard this instance writes: held in memory
    assert (await store.tip(mine)).size == PER_SHARD

    reads.documents = 0
    assert await store.entry(str(uuid.uuid4())) is None
    assert reads.documents == 0  # before: every chunk of every shard (120), kept in memory

    fresh = shard_entries(mine, PER_SHARD, PER_SHARD + 3, logs[mine])
    await writer.append(fresh)  # another writer's new chunk is still found, by `_id`
    found = await store.entry(fresh[1].event_id)
    assert found is not None
    assert (found.index, found.offset) == (PER_SHARD + 1, PER_SHARD + 1)
    assert reads.documents == 2  # the new chunk, then the chunk holding the entry

    # With the event's partition: that partition's shards (one per topic), no others.
    reads.documents = 0
    other = SHARDS[4]  # lookup.t1/1, not held
    wanted = stored[other][123]
    found = await store.entry(wanted.event_id, partition=1)
    assert found is not None
    assert (found.shard, found.index, found.data) == (other, 123, wanted.data)
    partition_chunks = 2 * PER_SHARD // CHUNK
    assert reads.documents == partition_chunks + 1
    reads.documents = 0
    assert await store.entry(str(uuid.uuid4()), partition=1) is None
    assert reads.documents == 0  # both held now: only their new chunks by `_id` (none)
