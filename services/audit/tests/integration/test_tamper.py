"""Tampering with the stored ledger is detected by the full audit, and located."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.chunks import Run, decode_chunk, encode_chunk
from audit.adapters.mongo_facts import MongoFactStore, create_fact_indexes
from audit.adapters.mongo_ledger import (
    MongoCheckpointStore,
    MongoLedgerStore,
    create_ledger_indexes,
    shard_collection,
)
from audit.domain.ledger import Entry, Record, ShardLog
from audit.domain.merkle import CompactRange
from audit.service.checkpoints import Checkpointer
from audit.service.ingest import LedgerIngest
from audit.service.integrity import AuditResult, full_audit
from audit.verify.checkpoint import public_keys_by_id
from audit_events import logged_in
from shared.events import make_event
from shared.kafka.consumer import Origin, Received

pytestmark = pytest.mark.integration
SHARD_TOPIC, KEY = "auth.events", Ed25519PrivateKey.generate()
SHARD = f"{SHARD_TOPIC}/0"
ENTRIES = shard_collection(SHARD)


class FakePublisher:
    """Collects what the checkpointer would publish."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def publish(self, event: Any, *, traceparent: str | None = None) -> None:
        self.events.append(event)


def delivery(offset: int) -> Received:
    event = make_event(logged_in(f"uk_tamper_{offset:04d}"), source="/auth")
    return Received(
        origin=Origin(SHARD_TOPIC, 0, offset, event.key(), 0),
        raw=event.to_bytes(),
        event=event,
        fault=None,
    )


@pytest.fixture
async def ledger(db: AsyncDatabase[dict[str, Any]]) -> AsyncDatabase[dict[str, Any]]:
    """40 entries in one shard, checkpoints signed at sizes 10, 20, 30 and 40."""
    await create_ledger_indexes(db)
    await create_fact_indexes(db)
    store, checkpoints = MongoLedgerStore(db), MongoCheckpointStore(db)
    ingest = LedgerIngest(ledger=store, facts=MongoFactStore(db, grace_s=0))
    checkpointer = Checkpointer(
        ledger=store,
        store=checkpoints,
        publisher=FakePublisher(),
        key=KEY,
        origin="test/ledger",
        every=10,
        interval_s=60,
    )
    for start in range(0, 40, 10):
        await ingest([delivery(100 + i) for i in range(start, start + 10)])
        assert await checkpointer.checkpoint() is not None
    return db


async def audit_of(db: AsyncDatabase[dict[str, Any]]) -> AuditResult:
    return await full_audit(
        ledger=MongoLedgerStore(db),
        checkpoints=MongoCheckpointStore(db),
        public_keys=public_keys_by_id([KEY.public_key()]),
    )


async def entries(db: AsyncDatabase[dict[str, Any]]) -> list[Entry]:
    return [e async for e in MongoLedgerStore(db).scan(SHARD)]


async def edit(
    db: AsyncDatabase[dict[str, Any]], change: Callable[[list[Entry]], list[Entry]]
) -> None:
    """What a forger with write access to the database does to a few entries: rewrite the
    chunks that hold them, keeping every other stored field (hashes, nodes, offsets) as it was."""
    async for doc in db[ENTRIES].find({}):
        stored = decode_chunk(SHARD, doc).entries()
        changed = change(stored)
        if changed != stored:
            await db[ENTRIES].delete_one({"_id": doc["_id"]})
            if changed:
                await db[ENTRIES].insert_one({**encode_chunk(Run.of(changed)), "_id": doc["_id"]})


def flip_byte(entry: Entry, at: int) -> Entry:
    data = bytearray(entry.data)
    data[at] ^= 0x01
    return dataclasses.replace(entry, data=bytes(data))


async def rewrite(db: AsyncDatabase[dict[str, Any]], new: list[Entry]) -> None:
    """What a forger with write access to the database does: replace the shard wholesale."""
    await db[ENTRIES].delete_many({})
    await MongoLedgerStore(db).append(new)


def recomputed(records: list[Record]) -> list[Entry]:
    log = ShardLog(shard=SHARD, tree=CompactRange())
    return [log.append(r) for r in records]


def as_record(entry: Entry, **changes: Any) -> Record:
    fields = {f.name: getattr(entry, f.name) for f in dataclasses.fields(Record)}
    return Record(**{**fields, **changes})


def forged_record(offset: int) -> Record:
    event = make_event(logged_in("uk_forged_0001"), source="/auth")
    return Record(
        event_id=event.id,
        shard=SHARD,
        offset=offset,
        data=event.to_bytes(),
    )


async def test_an_untouched_ledger_passes(ledger: AsyncDatabase[dict[str, Any]]) -> None:
    result = await audit_of(ledger)
    assert result.ok, result.findings
    assert (result.entries, result.checkpoints) == (40, 4)


async def test_one_changed_byte_is_located(ledger: AsyncDatabase[dict[str, Any]]) -> None:
    seventh = (await entries(ledger))[7]
    await edit(ledger, lambda chunk: [flip_byte(e, 40) if e.index == 7 else e for e in chunk])
    [finding] = (await audit_of(ledger)).findings
    assert (finding.shard, finding.index, finding.event_id) == (SHARD, 7, seventh.event_id)
    assert "does not match its leaf hash" in finding.problem


async def test_a_deleted_entry_is_located(ledger: AsyncDatabase[dict[str, Any]]) -> None:
    await edit(ledger, lambda chunk: [e for e in chunk if e.index != 12])
    [finding] = (await audit_of(ledger)).findings
    assert finding.index == 12
    assert "missing (deleted)" in finding.problem


async def test_a_deleted_chunk_is_located(ledger: AsyncDatabase[dict[str, Any]]) -> None:
    await edit(ledger, lambda chunk: [] if chunk[0].index == 20 else chunk)
    [finding] = (await audit_of(ledger)).findings
    assert finding.index == 20
    assert "missing (deleted)" in finding.problem


async def test_two_swapped_entries_are_located(ledger: AsyncDatabase[dict[str, Any]]) -> None:
    def swap(chunk: list[Entry]) -> list[Entry]:
        by_index = {e.index: e for e in chunk}
        if 5 not in by_index:
            return chunk
        five, six = by_index[5], by_index[6]
        swapped = {5: dataclasses.replace(six, index=5), 6: dataclasses.replace(five, index=6)}
        return [swapped.get(e.index, e) for e in chunk]

    await edit(ledger, swap)
    [finding] = (await audit_of(ledger)).findings
    assert finding.index in (5, 6)
    assert "nodes do not match" in finding.problem or "swapped" in finding.problem


@pytest.mark.parametrize("how", ["cut", "flipped"])
async def test_a_malformed_chunk_is_located(
    ledger: AsyncDatabase[dict[str, Any]], how: str
) -> None:
    """A byte changed in the compressed blob itself: zlib's checksum fails, the chunk is named."""
    doc = await ledger[ENTRIES].find_one({"_id": 30})
    assert doc is not None
    z = bytearray(doc["z"])
    if how == "cut":
        z = z[:-1]
    else:
        z[len(z) // 2] ^= 0x01
    await ledger[ENTRIES].delete_one({"_id": 30})
    await ledger[ENTRIES].insert_one({**doc, "z": bytes(z)})
    [finding] = (await audit_of(ledger)).findings
    assert (finding.index, finding.event_id) == (30, None)
    assert "malformed" in finding.problem


async def test_two_swapped_entries_with_recomputed_hashes_are_located(
    ledger: AsyncDatabase[dict[str, Any]],
) -> None:
    stored = await entries(ledger)
    order = [*stored[:5], stored[6], stored[5], *stored[7:]]
    await rewrite(ledger, recomputed([as_record(e) for e in order]))
    [finding] = (await audit_of(ledger)).findings
    assert finding.index == 6
    assert "swapped" in finding.problem


async def test_a_forged_entry_with_recomputed_hashes_is_located(
    ledger: AsyncDatabase[dict[str, Any]],
) -> None:
    stored = await entries(ledger)
    forged = forged_record(offset=stored[14].offset)
    records = [*(as_record(e) for e in stored[:15]), forged, *(as_record(e) for e in stored[15:])]
    await rewrite(ledger, recomputed(records))
    [finding] = (await audit_of(ledger)).findings
    assert (finding.index, finding.event_id) == (15, forged.event_id)


async def test_a_forged_entry_with_rewritten_offsets_is_located_by_the_signed_root(
    ledger: AsyncDatabase[dict[str, Any]],
) -> None:
    stored = await entries(ledger)
    records = [as_record(e, offset=e.offset + (1 if e.index >= 15 else 0)) for e in stored]
    records.insert(15, forged_record(offset=stored[14].offset + 1))
    await rewrite(ledger, recomputed(records))
    [finding] = (await audit_of(ledger)).findings
    assert finding.index == 10
    assert "[10, 20)" in finding.problem
    assert "does not match signed checkpoint" in finding.problem


async def test_a_cut_tail_is_located(ledger: AsyncDatabase[dict[str, Any]]) -> None:
    await edit(ledger, lambda chunk: [e for e in chunk if e.index < 35])
    [finding] = (await audit_of(ledger)).findings
    assert finding.index == 35
    assert "tail cut off" in finding.problem


async def test_a_tampered_checkpoint_is_reported(ledger: AsyncDatabase[dict[str, Any]]) -> None:
    chain = ledger["ledger_checkpoint_chain"]  # the record of every checkpoint
    doc = await chain.find_one({})
    assert doc is not None
    shards = [{**doc["shards"][0], "size": doc["shards"][0]["size"] - 1}]
    await chain.delete_one({"_id": doc["_id"]})
    await chain.insert_one({**doc, "shards": shards})
    findings = (await audit_of(ledger)).findings
    assert any("fails verification" in f.problem for f in findings)
