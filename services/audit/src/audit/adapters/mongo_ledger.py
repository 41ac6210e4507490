"""MongoDB storage of the ledger: insert and read, never update or delete (checkpoints are in
`mongo_checkpoints`, re-exported here).

One collection per shard (`ledger.<topic>.<partition>`), and in it one document per *chunk*:
the consecutive entries one append stored (`audit.adapters.chunks` has the format), keyed by
the index of its first entry. A chunk's `_id` is the tree size its writer saw: two writers of
the same shard collide on it and the later one reloads (a writer only ever writes at a size
that was once the true size, and every such size except the current one starts a stored chunk).

The hashes, event ids and last offset of a shard (215 bytes an entry with UUID event ids,
measured by `bench.audit_lookup`) are kept in memory after one read and extended by every
append: proofs, shard loads and duplicate checks then read no documents. A shard's memory is
released when its partition goes to another instance (`forget`). Reads stream in natural
(insertion) order and are put in index order by `chunk_reads`.
"""

from __future__ import annotations

import asyncio
import contextlib
from bisect import bisect_right
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from audit.adapters.chunk_reads import read_in_order
from audit.adapters.chunks import (
    Run,
    chunks,
    decode_chunk,
    encode_chunk,
    hashes_before,
    holder_of,
)
from audit.adapters.mongo_checkpoints import (  # re-exported: older callers import them here
    CHECKPOINTS,
    KEEP_RECENT,
    RECENT_CHECKPOINTS,
    MongoCheckpointStore,
)
from audit.domain.ledger import Entry, EntryBatch
from audit.domain.merkle import HASH_SIZE, NodeId
from audit.service.ports import DuplicateEvent, ShardTip, SlotTaken
from shared.mongo import Document, insert_once

__all__ = [
    "CHECKPOINTS",
    "KEEP_RECENT",
    "RECENT_CHECKPOINTS",
    "MongoCheckpointStore",
    "MongoLedgerStore",
    "create_ledger_indexes",
    "shard_collection",
]

SHARDS = "ledger_shards"


def shard_collection(shard: str) -> str:
    """The collection that holds one shard's chunks."""
    return "ledger." + shard.replace("/", ".")


async def create_ledger_indexes(db: AsyncDatabase[Document]) -> None:
    """Checkpoints by time; chunks need no index besides `_id` (their first index)."""
    await db[CHECKPOINTS].create_index([("signed_at", DESCENDING)])
    await db[RECENT_CHECKPOINTS].create_index([("signed_at", DESCENDING)])


@dataclass
class _Shard:
    """What is known in memory of one shard's stored chunks (never their event data)."""

    starts: list[int] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)
    size: int = 0
    last_offset: int = -1
    ids: dict[str, int] = field(default_factory=dict)

    def add(self, chunk: Run) -> None:
        self.starts.append(chunk.start)
        self.hashes.append(chunk.hashes)
        self.ids.update((event_id, chunk.start + i) for i, event_id in enumerate(chunk.ids))
        self.size = chunk.start + len(chunk.ids)
        self.last_offset = chunk.last_offset

    def node(self, level: int, index: int) -> bytes | None:
        holder = holder_of((level, index))
        if holder >= self.size:
            return None
        k = bisect_right(self.starts, holder) - 1
        at = HASH_SIZE * (hashes_before(holder) - hashes_before(self.starts[k]) + level)
        return self.hashes[k][at : at + HASH_SIZE]

    def chunk_of(self, index: int) -> int:
        return self.starts[bisect_right(self.starts, index) - 1]


class MongoLedgerStore:
    """Chunks of entries keyed by their first index; a shard's hashes and ids kept in memory."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._known: set[str] = set()
        self._shards: dict[str, _Shard] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _chunks(self, shard: str) -> AsyncCollection[Document]:
        return self._db[shard_collection(shard)]

    def _read(self, shard: str) -> AsyncGenerator[Run]:
        return read_in_order(self._chunks(shard), shard=shard)

    async def _register(self, shard: str) -> None:
        if shard not in self._known:
            await insert_once(self._db[SHARDS], {"_id": shard})
            self._known.add(shard)

    async def _catch_up(self, shard: str) -> _Shard:
        """Read the chunks stored since what is in memory: all of them the first time, then
        the next one by `_id` until there is none (FerretDB serves `_id` equality in
        PostgreSQL, but reads and filters every document in Go for `$gte`: measured on a shard
        of 100,000 entries, 17 ms against 820 ms)."""
        known = self._shards.setdefault(shard, _Shard())
        # One catch-up per shard at a time, and a chunk is added only where the shard ends
        # now: an append (or another reader) of this process may have added it meanwhile.
        async with self._locks.setdefault(shard, asyncio.Lock()):
            if known.size == 0:
                async with contextlib.aclosing(self._read(shard)) as stored:
                    async for chunk in stored:
                        if chunk.start > known.size:  # a gap: the full audit judges it
                            break
                        if chunk.start == known.size:
                            known.add(chunk)
                return known
            while (doc := await self._chunks(shard).find_one({"_id": known.size})) is not None:
                chunk = decode_chunk(shard, doc)
                if chunk.start == known.size:
                    known.add(chunk)
            return known

    async def append(self, entries: Sequence[Entry]) -> None:
        """Insert one shard's entries as chunks, in order: a crash leaves a prefix, never a gap.

        An event id already in the shard stops the append there (DuplicateEvent, after the
        entries before it are stored); another writer's chunk at the same place raises SlotTaken.
        """
        if not entries:
            return
        shard = entries[0].shard
        await self._register(shard)
        known = self._shards.get(shard)
        if known is None or known.size != entries[0].index:
            known = await self._catch_up(shard)
        if known.size != entries[0].index:
            raise SlotTaken(f"{shard} has {known.size} entries, not {entries[0].index}")
        cut, batch = len(entries), set[str]()
        for i, entry in enumerate(entries):
            if entry.event_id in known.ids or entry.event_id in batch:
                cut = i
                break
            batch.add(entry.event_id)
        for run in map(Run.of, chunks(entries[:cut])):
            # zlib lets go of the GIL: the chunk is compressed in a worker thread while this
            # process prepares the batch's other writes (the facts, the other shards).
            doc = await asyncio.to_thread(encode_chunk, run)
            try:
                await self._chunks(shard).insert_one(doc)
            except DuplicateKeyError as exc:
                raise SlotTaken(f"{shard} index {run.start} is taken by another writer") from exc
            if known.size == run.start:  # else a concurrent read has added it already
                known.add(run)
        if cut < len(entries):
            dup = entries[cut]
            raise DuplicateEvent(
                event_id=dup.event_id, stored=known.ids.get(dup.event_id, dup.index)
            )

    def forget(self, shards: Iterable[str]) -> None:
        """Drop what memory holds of these shards (their partitions went to another member);
        a later read loads them again."""
        for shard in shards:
            self._shards.pop(shard, None)

    async def shards(self) -> list[str]:
        """Every shard with at least one entry."""
        return sorted([doc["_id"] async for doc in self._db[SHARDS].find({})])

    async def tip(self, shard: str) -> ShardTip:
        """The shard's size and the Kafka offset of its last entry, as stored now."""
        known = await self._catch_up(shard)
        return ShardTip(size=known.size, last_offset=known.last_offset)

    async def nodes(self, shard: str, wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """The hashes of these perfect nodes, from the entries that completed them."""
        known = self._shards.get(shard)
        if known is None or any(holder_of(n) >= known.size for n in wanted):
            known = await self._catch_up(shard)
        found = {}
        for level, index in wanted:
            node = known.node(level, index)
            if node is not None:
                found[(level, index)] = node
        return found

    async def entry(self, event_id: str, *, partition: int | None = None) -> Entry | None:
        """One entry by event id, at a cost that does not grow with the ledger: searched in
        the shards held in memory (after reading their new chunks by `_id`), and with the
        event's partition in that partition's shards (one per topic, loaded if need be);
        never every shard (a miss loaded them all before). Then its chunk is read."""
        if partition is None:
            shards = sorted(self._shards)
        else:
            suffix = f"/{partition}"
            shards = [s for s in await self.shards() if s.endswith(suffix)]
        place = self._locate(event_id, shards)
        if place is None:
            await asyncio.gather(*(self._catch_up(s) for s in shards))
            place = self._locate(event_id, shards)
        if place is None:
            return None
        shard, index = place
        doc = await self._chunks(shard).find_one({"_id": self._shards[shard].chunk_of(index)})
        if doc is None:
            return None
        return next((e for e in decode_chunk(shard, doc).entries() if e.index == index), None)

    def _locate(self, event_id: str, shards: Sequence[str]) -> tuple[str, int] | None:
        for shard in shards:
            known = self._shards.get(shard)
            if known is not None and event_id in known.ids:
                return shard, known.ids[event_id]
        return None

    async def batches(self, shard: str) -> AsyncGenerator[EntryBatch]:
        """Every entry of the shard, a stored chunk at a time, in index order (MalformedChunk,
        an UnreadableEntries, where one cannot be read)."""
        async with contextlib.aclosing(self._read(shard)) as stored:
            async for chunk in stored:
                yield chunk.batch()

    async def scan(self, shard: str) -> AsyncIterator[Entry]:
        """Every entry of the shard in index order."""
        async with contextlib.aclosing(self._read(shard)) as stored:
            async for chunk in stored:
                for entry in chunk.entries():
                    yield entry
