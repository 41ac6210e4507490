"""MongoDB storage of the ledger and its checkpoints: insert and read, never update or delete.

One collection per shard (`ledger.<topic>.<partition>`): FerretDB v1 evaluates filters without
its indexes (measured: an `_id` lookup scans the table), so keeping each shard's entries apart
keeps every read proportional to one shard, not the whole ledger. Entries are immutable, so each
shard's tree hashes (its leaf hash and completed nodes: ~64 bytes an entry) are read once, with
one scan, and then kept in memory and extended by every append: proofs and shard loads then
read no documents at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from audit.domain.ledger import Entry, holder_of
from audit.domain.merkle import NodeId
from audit.service.ports import DuplicateEvent, SlotTaken, StoredCheckpoint
from audit.verify.checkpoint import Checkpoint, ShardHead
from shared.mongo import DUPLICATE_KEY, Document, insert_once

SHARDS, CHECKPOINTS = "ledger_shards", "ledger_checkpoints"
# FerretDB v1 splits an insert into batches of 100 and, after a failed document, goes on with the
# next batch even when the insert is ordered (measured: a clash at 60 of 200 stored 0-59 and
# 100-199). Ordered inserts of at most this many documents, one after the other, keep a prefix.
ORDERED_CHUNK = 100


def shard_collection(shard: str) -> str:
    """The collection that holds one shard's entries."""
    return "ledger." + shard.replace("/", ".")


async def create_ledger_indexes(db: AsyncDatabase[Document]) -> None:
    """Checkpoints by time; each shard collection gets its unique index when first written."""
    await db[CHECKPOINTS].create_index([("signed_at", DESCENDING)])


def _to_doc(entry: Entry) -> Document:
    # Few fields: FerretDB's cost grows with each field it encodes and decodes (measured:
    # packing the hashes into one value sped both inserts and reads up markedly).
    return {
        "_id": entry.event_id,
        "index": entry.index,
        "offset": entry.offset,
        "h": entry.leaf + b"".join(entry.nodes),
        "data": entry.data,
    }


def _hashes(packed: bytes) -> tuple[bytes, tuple[bytes, ...]]:
    """Leaf hash and completed nodes from their packed form (32 bytes each)."""
    return packed[:32], tuple(packed[i : i + 32] for i in range(32, len(packed), 32))


def _from_doc(shard: str, doc: Document) -> Entry:
    leaf, nodes = _hashes(bytes(doc["h"]))
    return Entry(
        event_id=doc["_id"],
        shard=shard,
        index=doc["index"],
        offset=doc["offset"],
        leaf=leaf,
        nodes=nodes,
        data=bytes(doc["data"]),
    )


class MongoLedgerStore:
    """Entries keyed by event id within their shard (a redelivery collides), unique by index."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._known: set[str] = set()
        self._hashes: dict[str, dict[int, tuple[bytes, tuple[bytes, ...]]]] = {}

    def _entries(self, shard: str) -> AsyncCollection[Document]:
        return self._db[shard_collection(shard)]

    async def _register(self, shard: str) -> None:
        if shard not in self._known:
            await self._entries(shard).create_index([("index", ASCENDING)], unique=True)
            await insert_once(self._db[SHARDS], {"_id": shard})
            self._known.add(shard)

    async def append(self, entries: Sequence[Entry]) -> None:
        """Ordered insert of one shard's entries: a crash or clash leaves a prefix, never a gap."""
        if not entries:
            return
        shard = entries[0].shard
        await self._register(shard)
        collection = self._entries(shard)
        for start in range(0, len(entries), ORDERED_CHUNK):
            chunk = entries[start : start + ORDERED_CHUNK]
            try:
                await collection.insert_many([_to_doc(e) for e in chunk], ordered=True)
            except BulkWriteError as exc:
                self._hashes.pop(shard, None)  # part of the chunk may be stored: read again
                raise await self._clash(exc, chunk, before=start) from exc
            if shard in self._hashes:
                self._hashes[shard].update((e.index, (e.leaf, e.nodes)) for e in chunk)

    async def _clash(
        self, exc: BulkWriteError, entries: Sequence[Entry], *, before: int
    ) -> Exception:
        """Name what a duplicate key was (FerretDB does not say which index refused it)."""
        errors = exc.details.get("writeErrors", [])
        if not errors or errors[0].get("code") != DUPLICATE_KEY:
            return exc
        position = int(errors[0].get("index", 0))
        entry = entries[position]
        stored = await self._entries(entry.shard).find_one(
            {"_id": entry.event_id}, projection={"index": 1}
        )
        if stored is not None and stored["index"] != entry.index:
            return DuplicateEvent(event_id=entry.event_id, stored=before + position)
        return SlotTaken(f"{entry.shard} index {entry.index} is taken by another writer")

    async def shards(self) -> list[str]:
        """Every shard with at least one entry."""
        return sorted([doc["_id"] async for doc in self._db[SHARDS].find({})])

    async def last(self, shard: str) -> Entry | None:
        """The shard's last entry (entries are a gapless prefix)."""
        doc = await self._entries(shard).find_one({}, sort=[("index", DESCENDING)])
        return None if doc is None else _from_doc(shard, doc)

    async def size(self, shard: str) -> int:
        """Index of the last entry plus one."""
        last = await self.last(shard)
        return 0 if last is None else last.index + 1

    async def nodes(self, shard: str, wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """The hashes of these perfect nodes, from the entries that completed them."""
        hashes = self._hashes.get(shard)
        if hashes is None or any(holder_of(n) not in hashes for n in wanted):
            hashes = await self._read_hashes(shard)
        found = {}
        for level, index in wanted:
            held = hashes.get(holder_of((level, index)))
            if held is not None:
                found[(level, index)] = held[0] if level == 0 else held[1][level - 1]
        return found

    async def _read_hashes(self, shard: str) -> dict[int, tuple[bytes, tuple[bytes, ...]]]:
        cursor = self._entries(shard).find({}, projection={"index": 1, "h": 1})
        hashes = {doc["index"]: _hashes(bytes(doc["h"])) async for doc in cursor}
        self._hashes[shard] = hashes
        return hashes

    async def entry(self, event_id: str, *, partition: int | None = None) -> Entry | None:
        """One entry by event id; with the subject's partition only that partition's shards
        are read (no separate locator: it would double the documents written per event)."""
        shards = [
            s for s in await self.shards() if partition is None or s.endswith(f"/{partition}")
        ]
        found = await asyncio.gather(
            *(self._entries(s).find_one({"_id": event_id}) for s in shards)
        )
        for shard, doc in zip(shards, found, strict=True):
            if doc is not None:
                return _from_doc(shard, doc)
        return None

    async def scan(self, shard: str) -> AsyncIterator[Entry]:
        """Every entry of the shard by index."""
        async for doc in self._entries(shard).find({}).sort("index", ASCENDING):
            yield _from_doc(shard, doc)

    async def tail(self, shard: str, *, start: int) -> list[Entry]:
        """The shard's entries from index `start` on, in order."""
        cursor = self._entries(shard).find({"index": {"$gte": start}}).sort("index", ASCENDING)
        return [_from_doc(shard, doc) async for doc in cursor]


def _cp_to_doc(stored: StoredCheckpoint) -> Document:
    cp = stored.checkpoint
    return {
        "_id": stored.checkpoint_id,
        "origin": cp.origin,
        "time": cp.time,
        "key_id": cp.key_id,
        "signature": cp.signature,
        "signed_at": stored.signed_at,
        "shards": [{"shard": h.shard, "size": h.size, "root": h.root} for h in cp.shards],
    }


def _cp_from_doc(doc: Document) -> StoredCheckpoint:
    heads = tuple(
        ShardHead(shard=h["shard"], size=h["size"], root=bytes(h["root"])) for h in doc["shards"]
    )
    checkpoint = Checkpoint(
        origin=doc["origin"],
        shards=heads,
        time=doc["time"],
        key_id=doc["key_id"],
        signature=bytes(doc["signature"]),
    )
    return StoredCheckpoint(
        checkpoint_id=doc["_id"], checkpoint=checkpoint, signed_at=doc["signed_at"]
    )


class MongoCheckpointStore:
    """Signed checkpoints by id."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._checkpoints = db[CHECKPOINTS]

    async def save(self, stored: StoredCheckpoint) -> bool:
        """Insert; False if that id was already there."""
        return await insert_once(self._checkpoints, _cp_to_doc(stored))

    async def latest(self) -> StoredCheckpoint | None:
        """The newest checkpoint."""
        doc = await self._checkpoints.find_one({}, sort=[("signed_at", DESCENDING)])
        return None if doc is None else _cp_from_doc(doc)

    async def get(self, checkpoint_id: str) -> StoredCheckpoint | None:
        """One checkpoint by id."""
        doc = await self._checkpoints.find_one({"_id": checkpoint_id})
        return None if doc is None else _cp_from_doc(doc)

    async def all(self) -> list[StoredCheckpoint]:
        """Every checkpoint, oldest first."""
        cursor = self._checkpoints.find({}).sort("signed_at", ASCENDING)
        return [_cp_from_doc(doc) async for doc in cursor]
