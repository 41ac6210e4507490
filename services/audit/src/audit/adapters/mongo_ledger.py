"""MongoDB storage of the ledger and its checkpoints: insert and read, never update or delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from audit.domain.ledger import Entry
from audit.service.ports import StoredCheckpoint
from audit.verify.checkpoint import Checkpoint, ShardHead
from shared.mongo import Document, insert_once

ENTRIES, SHARDS, CHECKPOINTS = "ledger_entries", "ledger_shards", "ledger_checkpoints"


async def create_ledger_indexes(db: AsyncDatabase[Document]) -> None:
    """The unique (shard, index) index is what keeps two writers from sharing a slot."""
    await db[ENTRIES].create_index([("shard", ASCENDING), ("index", ASCENDING)], unique=True)
    await db[CHECKPOINTS].create_index([("signed_at", DESCENDING)])


def _to_doc(entry: Entry) -> Document:
    return {
        "_id": entry.event_id,
        "shard": entry.shard,
        "index": entry.index,
        "offset": entry.offset,
        "leaf": entry.leaf,
        "nodes": list(entry.nodes),
        "data": entry.data,
        "type": entry.type,
        "subject": entry.subject,
        "time": entry.time,
    }


def _from_doc(doc: Document) -> Entry:
    return Entry(
        event_id=doc["_id"],
        shard=doc["shard"],
        index=doc["index"],
        offset=doc["offset"],
        leaf=bytes(doc["leaf"]),
        nodes=tuple(bytes(n) for n in doc["nodes"]),
        data=bytes(doc["data"]),
        type=doc["type"],
        subject=doc["subject"],
        time=doc["time"],
    )


class MongoLedgerStore:
    """Entries keyed by event id (a redelivery collides by itself), unique by (shard, index)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._entries = db[ENTRIES]
        self._shards = db[SHARDS]

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these event ids are already entries."""
        cursor = self._entries.find({"_id": {"$in": list(ids)}}, projection={"_id": 1})
        return {doc["_id"] async for doc in cursor}

    async def append(self, entries: Sequence[Entry]) -> None:
        """Ordered insert: a crash or clash leaves a prefix, never a gap."""
        if not entries:
            return
        for shard in {e.shard for e in entries}:
            await insert_once(self._shards, {"_id": shard})
        await self._entries.insert_many([_to_doc(e) for e in entries], ordered=True)

    async def shards(self) -> list[str]:
        """Every shard with at least one entry."""
        return sorted([doc["_id"] async for doc in self._shards.find({})])

    async def size(self, shard: str) -> int:
        """Index of the last entry plus one (entries are a gapless prefix)."""
        last = await self._entries.find_one(
            {"shard": shard}, projection={"index": 1}, sort=[("index", DESCENDING)]
        )
        return 0 if last is None else int(last["index"]) + 1

    async def entries_at(self, shard: str, indexes: Iterable[int]) -> dict[int, Entry]:
        """The shard's entries at these indexes."""
        wanted = sorted(set(indexes))
        if not wanted:
            return {}
        cursor = self._entries.find({"shard": shard, "index": {"$in": wanted}})
        return {doc["index"]: _from_doc(doc) async for doc in cursor}

    async def entry(self, event_id: str) -> Entry | None:
        """One entry by event id."""
        doc = await self._entries.find_one({"_id": event_id})
        return None if doc is None else _from_doc(doc)

    async def scan(self, shard: str) -> AsyncIterator[Entry]:
        """Every entry of the shard by index, in pages."""
        async for doc in self._entries.find({"shard": shard}).sort("index", ASCENDING):
            yield _from_doc(doc)


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
