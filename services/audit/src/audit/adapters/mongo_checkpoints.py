"""MongoDB storage of signed checkpoints: a numbered chain, claimed by unique inserts.

Several audit instances sign checkpoints. Each new one takes the next number of the chain
(`ledger_checkpoint_chain`, `_id` = its number) by a plain insert, after merging the heads of
the one it follows: two writers that read the same predecessor clash on the number, and the
later one reads again and merges again (FerretDB has no transactions and its conditional
updates are not atomic; a unique `_id` insert is atomic on it and on MongoDB alike). So each
checkpoint covers the one before it, whichever instance wrote either.

`ledger_checkpoints` maps a checkpoint's content id to its number, and a few of the newest are
copied into `ledger_checkpoints_recent`, which answers "the latest" with the next numbers read
by `_id` (FerretDB sorts only after reading every document: measured, the latest of 17,000
checkpoints by a sorted find took 18.5 s). Databases from before the chain keep their full
checkpoints in `ledger_checkpoints` (number 0): they are still read.
"""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from audit.service.ports import StoredCheckpoint
from audit.verify.checkpoint import Checkpoint, ShardHead
from shared.mongo import Document, insert_once

CHECKPOINTS, CHAIN = "ledger_checkpoints", "ledger_checkpoint_chain"
RECENT_CHECKPOINTS = "ledger_checkpoints_recent"
KEEP_RECENT = 16
"""Checkpoints kept in the small collection that answers "the latest" (between 16 and 32)."""


def _to_doc(stored: StoredCheckpoint, *, key: Any) -> Document:
    cp = stored.checkpoint
    return {
        "_id": key,
        "checkpoint_id": stored.checkpoint_id,
        "seq": stored.seq,
        "origin": cp.origin,
        "time": cp.time,
        "key_id": cp.key_id,
        "signature": cp.signature,
        "signed_at": stored.signed_at,
        "shards": [{"shard": h.shard, "size": h.size, "root": h.root} for h in cp.shards],
    }


def _from_doc(doc: Document) -> StoredCheckpoint:
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
        checkpoint_id=str(doc.get("checkpoint_id") or doc["_id"]),
        checkpoint=checkpoint,
        signed_at=doc["signed_at"],
        seq=doc.get("seq", 0),
    )


def _order(doc: Document) -> tuple[int, Any]:
    return doc.get("seq", 0), doc["signed_at"]


class MongoCheckpointStore:
    """Signed checkpoints, numbered: every one kept for good in the chain."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._chain = db[CHAIN]
        self._by_id = db[CHECKPOINTS]
        self._recent = db[RECENT_CHECKPOINTS]

    async def save(self, stored: StoredCheckpoint) -> bool:
        """Claim number `stored.seq`; False when another writer holds it. Then index it by id
        and keep it among the recent ones."""
        if stored.seq < 1:
            raise ValueError("a checkpoint is saved under its number in the chain (from 1)")
        # The index entry first: a writer stopped after its claim still leaves a checkpoint
        # found by id; one whose claim then fails leaves an entry that `get` sees through.
        await insert_once(self._by_id, {"_id": stored.checkpoint_id, "seq": stored.seq})
        if not await insert_once(self._chain, _to_doc(stored, key=stored.seq)):
            return False
        await insert_once(self._recent, _to_doc(stored, key=stored.checkpoint_id))
        await self._prune()
        return True

    async def _prune(self) -> None:
        """Drop all but the newest KEEP_RECENT from the recent ones (a copy, not the record)."""
        cursor = self._recent.find({}, projection={"seq": 1, "signed_at": 1})
        docs = sorted([doc async for doc in cursor], key=_order, reverse=True)
        if len(docs) > 2 * KEEP_RECENT:
            await self._recent.delete_many({"_id": {"$in": [d["_id"] for d in docs[KEEP_RECENT:]]}})

    async def latest(self) -> StoredCheckpoint | None:
        """The checkpoint with the highest number: the newest recent copy, then any later
        numbers by `_id` (a writer that stopped before copying, another instance's)."""
        cursor = self._recent.find({}, projection={"seq": 1, "signed_at": 1})
        newest = max([doc async for doc in cursor], key=_order, default=None)
        seq = 0 if newest is None else newest.get("seq", 0)
        while (doc := await self._chain.find_one({"_id": seq + 1})) is not None:
            newest, seq = doc, seq + 1
        if newest is not None and "shards" not in newest:  # the recent copy itself, whole
            newest = await self._recent.find_one({"_id": newest["_id"]})
        if newest is None:  # a database from before the chain, whose copies were lost
            newest = await self._by_id.find_one(
                {"shards": {"$exists": True}}, sort=[("signed_at", DESCENDING)]
            )
        return None if newest is None else _from_doc(newest)

    async def get(self, checkpoint_id: str) -> StoredCheckpoint | None:
        """One checkpoint by id."""
        doc = await self._recent.find_one({"_id": checkpoint_id})
        if doc is None:
            doc = await self._by_id.find_one({"_id": checkpoint_id})
            if doc is not None and "shards" not in doc:  # an index entry: the chain has it
                doc = await self._chain.find_one({"_id": doc["seq"]})
                if doc is not None and doc["checkpoint_id"] != checkpoint_id:
                    doc = None  # its writer lost that number to another checkpoint
        return None if doc is None else _from_doc(doc)

    async def all(self) -> list[StoredCheckpoint]:
        """Every checkpoint, in chain order (those from before the chain first, by time)."""
        older = [_from_doc(d) async for d in self._by_id.find({"shards": {"$exists": True}})]
        chain = [_from_doc(d) async for d in self._chain.find({})]
        return sorted([*older, *chain], key=lambda c: (c.seq, c.signed_at, c.checkpoint_id))
