"""The ledger store reads in index order whatever the storage order and fails rather than
hangs; the checkpoint store finds the latest without reading them all."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from audit.adapters import chunk_reads
from audit.adapters.chunks import Run, encode_chunk
from audit.adapters.mongo_ledger import (
    KEEP_RECENT,
    RECENT_CHECKPOINTS,
    SHARDS,
    MongoCheckpointStore,
    MongoLedgerStore,
    create_ledger_indexes,
    shard_collection,
)
from audit.domain.ledger import Entry, Record, ShardLog
from audit.domain.merkle import CompactRange, nodes_for_root
from audit.service.checkpoints import checkpoint_id
from audit.service.ports import StoredCheckpoint
from audit.verify.checkpoint import ShardHead, sign_checkpoint
from audit_testing import audit_shard, node_of

pytestmark = pytest.mark.integration
SHARD = "chunks.test/0"


def entries(count: int) -> list[Entry]:
    log = ShardLog(shard=SHARD, tree=CompactRange())
    return [
        log.append(
            Record(
                event_id=f"e{i:04d}",
                shard=SHARD,
                offset=i,
                data=json.dumps({"specversion": "1.0", "id": f"e{i:04d}"}).encode(),
            )
        )
        for i in range(count)
    ]


async def store_chunks(db: AsyncDatabase[dict[str, Any]], parts: list[list[Entry]]) -> None:
    await db[SHARDS].insert_one({"_id": SHARD})
    for part in parts:
        await db[shard_collection(SHARD)].insert_one(encode_chunk(Run.of(part)))


async def test_chunks_stored_out_of_order_are_read_in_index_order(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    stored = entries(60)
    await store_chunks(db, [stored[40:60], stored[0:10], stored[25:40], stored[10:25]])
    store = MongoLedgerStore(db)
    assert [e async for e in store.scan(SHARD)] == stored
    assert (await store.tip(SHARD)).size == 60
    assert audit_shard(SHARD, stored, []) == []


async def test_a_missing_chunk_stops_the_store_at_the_gap_and_the_audit_names_it(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    stored = entries(30)
    await store_chunks(db, [stored[0:10], stored[20:30]])
    store = MongoLedgerStore(db)
    tip = await store.tip(SHARD)
    assert (tip.size, tip.last_offset) == (10, 9)
    read = [e async for e in store.scan(SHARD)]
    assert [e.index for e in read] == [*range(10), *range(20, 30)]
    [finding] = audit_shard(SHARD, read, [])
    assert finding.index == 10
    assert "missing (deleted)" in finding.problem


async def test_a_read_that_fails_raises_instead_of_waiting_forever() -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:9/", serverSelectionTimeoutMS=300
    )
    try:
        with pytest.raises(PyMongoError):
            [e async for e in MongoLedgerStore(client["nowhere"]).scan(SHARD)]
    finally:
        await client.close()


async def test_a_late_first_chunk_is_asked_for_instead_of_holding_the_shard(
    db: AsyncDatabase[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rewritten chunk moves to the end of the natural order; memory stays bounded."""
    monkeypatch.setattr(chunk_reads, "MAX_WAITING", 2)
    stored = entries(50)
    parts = [stored[i : i + 5] for i in range(0, 50, 5)]
    await store_chunks(db, [*parts[1:4], *parts[5:], parts[0], parts[4]])
    assert [e async for e in MongoLedgerStore(db).scan(SHARD)] == stored


async def test_a_forged_chunk_overlapping_others_is_read_and_named(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    stored = entries(30)
    await store_chunks(db, [stored[0:10], stored[10:20], stored[20:30]])
    await db[shard_collection(SHARD)].insert_one(encode_chunk(Run.of(stored[5:8])))  # _id 5: a copy
    read = [e async for e in MongoLedgerStore(db).scan(SHARD)]
    assert len(read) == 33
    [finding] = audit_shard(SHARD, read, [])
    assert finding.index == 5
    assert "appears again" in finding.problem


async def test_the_latest_checkpoint_comes_from_a_small_collection_of_recent_ones(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    """FerretDB sorts after reading everything: "the latest" must not read a day of them."""
    await create_ledger_indexes(db)
    store, key, start = MongoCheckpointStore(db), Ed25519PrivateKey.generate(), datetime.now(UTC)
    saved = []
    for i in range(40):
        at = start + timedelta(seconds=i)
        heads = [ShardHead(shard=SHARD, size=i + 1, root=bytes([i]) * 32)]
        signed = sign_checkpoint(private_key=key, origin="test/o", shards=heads, time=at)
        saved.append(StoredCheckpoint(checkpoint_id(signed), signed, at, seq=i + 1))
        assert await store.save(saved[-1])
    assert not await store.save(saved[-1])  # the same number again
    assert KEEP_RECENT <= await db[RECENT_CHECKPOINTS].count_documents({}) <= 2 * KEEP_RECENT
    latest = await store.latest()
    assert latest is not None
    assert latest.checkpoint_id == saved[-1].checkpoint_id
    # A writer stopped after claiming its number, before copying it among the recent ones.
    at = start + timedelta(seconds=40)
    heads = [ShardHead(shard=SHARD, size=41, root=bytes([40]) * 32)]
    signed = sign_checkpoint(private_key=key, origin="test/o", shards=heads, time=at)
    saved.append(StoredCheckpoint(checkpoint_id(signed), signed, at, seq=41))
    assert await store.save(saved[-1])
    await db[RECENT_CHECKPOINTS].delete_one({"_id": saved[-1].checkpoint_id})
    latest = await store.latest()
    assert latest is not None
    assert (latest.seq, latest.checkpoint) == (41, saved[-1].checkpoint)
    first = await store.get(saved[0].checkpoint_id)  # no longer among the recent ones
    assert first is not None
    assert first.checkpoint == saved[0].checkpoint
    assert [c.checkpoint_id for c in await store.all()] == [c.checkpoint_id for c in saved]


async def test_what_another_writer_appended_is_read_chunk_by_chunk(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    stored = entries(40)
    writer, reader = MongoLedgerStore(db), MongoLedgerStore(db)
    await writer.append(stored[0:10])
    assert (await reader.tip(SHARD)).size == 10  # read in full
    await writer.append(stored[10:25])
    await writer.append(stored[25:40])
    tip = await reader.tip(SHARD)  # then the next chunks by _id
    assert (tip.size, tip.last_offset) == (40, 39)
    nodes = await reader.nodes(SHARD, [(3, 4), (0, 39)])
    assert nodes == {(3, 4): node_of(stored[39], 3), (0, 39): stored[39].leaf}


async def test_concurrent_reads_of_what_another_writer_appended_keep_the_shard_whole(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    """The checkpointer and the ingest of one process catch up on the same shard at once."""
    stored = entries(60)
    writer, reader = MongoLedgerStore(db), MongoLedgerStore(db)
    await writer.append(stored[0:10])
    assert (await reader.tip(SHARD)).size == 10
    for start in range(10, 60, 5):
        await writer.append(stored[start : start + 5])
    tips = await asyncio.gather(*(reader.tip(SHARD) for _ in range(4)))
    assert {(t.size, t.last_offset) for t in tips} == {(60, 59)}
    wanted = nodes_for_root(tree_size=60)
    assert await reader.nodes(SHARD, wanted) == await writer.nodes(SHARD, wanted)
    await reader.append(entries(61)[60:])  # it knows where the shard ends
    assert (await writer.tip(SHARD)).size == 61
