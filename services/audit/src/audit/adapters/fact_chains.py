"""Chains of documents keyed by `_id` alone: `<chain>:<k>` for k = 0, 1, 2, ... without gaps.

A chain is one user's (or one app's) facts: each write appends a document at the chain's end,
and a unique insert settles two writers (a rebalance, or ingest and the judge): the loser finds
the new end and tries again. Readers find the end by `_id` probes (from the end this process
last saw, else galloping from 0) and read back from it. FerretDB v1 serves no filter from an
index, not even `_id` equality (it sends `_jsonb->'_id' @> $2`, a sequential scan of the
table: measured 0.6 µs a document, 30 ms at 50,000), so the chains are spread over
`BUCKETS` collections by a hash of the chain: a probe scans one bucket, not every fact. On
MongoDB each probe is an index lookup.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import bson
from bson.codec_options import CodecOptions
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.mongo import DUPLICATE_KEY, Document

BUCKETS = 16
"""Measured on FerretDB: 350 documents a batch cost the same over 16 collections as over one
(50 ms); over 64 they cost 190 ms."""
CACHE_CHAINS = 1_000_000
"""Chain ends remembered (about 150 bytes each); beyond that the oldest is forgotten."""
_ATTEMPTS = 32


def bucket_name(chain: str) -> str:
    """The collection that holds a chain."""
    return f"facts_{zlib.crc32(chain.encode()) % BUCKETS:02d}"


def pack(body: Document) -> bytes:
    """zlib of BSON: FerretDB converts every field value it stores or reads, so rows that are
    only ever read whole travel as one binary value."""
    return zlib.compress(bson.encode(body), 1)


def unpack(blob: bytes, options: CodecOptions[Document]) -> Document:
    """The body `pack` made."""
    body: Document = bson.decode(zlib.decompress(blob), codec_options=options)
    return body


class Chains:
    """Appends and reads of chains; remembers the ends it saw (a hint, never more than true)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._ends: OrderedDict[str, int] = OrderedDict()

    def _collection(self, chain: str) -> AsyncCollection[Document]:
        return self._db[bucket_name(chain)]

    def remember(self, chain: str, end: int) -> None:
        """Note that the chain reaches at least `end`."""
        if end > self._ends.get(chain, 0):
            self._ends[chain] = end
            self._ends.move_to_end(chain)
            if len(self._ends) > CACHE_CHAINS:
                self._ends.popitem(last=False)

    async def _exists(self, chain: str, k: int) -> bool:
        found = await self._collection(chain).find_one({"_id": f"{chain}:{k}"}, {"_id": 1})
        return found is not None

    async def end(self, chain: str) -> int:
        """The first free place: probes forward from the remembered end, galloping."""
        low = self._ends.get(chain, 0)
        if not await self._exists(chain, low):
            return low
        step = 1
        while await self._exists(chain, low + step):
            low, step = low + step, step * 2
        high = low + step  # low exists, high does not: bisect
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if await self._exists(chain, middle) else (low, middle)
        self.remember(chain, high)
        return high

    async def insert(self, chain: str, k: int, doc: Document) -> bool:
        """Put `doc` at place k; False when that place was taken."""
        try:
            await self._collection(chain).insert_one({**doc, "_id": f"{chain}:{k}"})
        except DuplicateKeyError:
            self._ends.pop(chain, None)
            return False
        self.remember(chain, k + 1)
        return True

    async def append(self, docs: Mapping[str, Document]) -> None:
        """Append one document to each chain (a bulk insert per bucket; clashes retried)."""
        todo = dict(docs)
        if not todo:
            return
        for _ in range(_ATTEMPTS):
            by_bucket: dict[str, list[tuple[str, int]]] = {}
            for chain in todo:
                by_bucket.setdefault(bucket_name(chain), []).append(
                    (chain, self._ends.get(chain, 0))
                )
            lost = await asyncio.gather(
                *(self._append_bucket(name, places, todo) for name, places in by_bucket.items())
            )
            clashed = [chain for chains in lost for chain in chains]
            if not clashed:
                return
            ends = await asyncio.gather(*(self.end(chain) for chain in clashed))
            todo = {chain: todo[chain] for chain in clashed}
            for chain, end in zip(clashed, ends, strict=True):
                self._ends[chain] = end
        raise RuntimeError(f"could not append to {len(todo)} fact chains")

    async def _append_bucket(
        self, name: str, places: list[tuple[str, int]], docs: Mapping[str, Document]
    ) -> list[str]:
        """Insert at the remembered ends; returns the chains whose place was taken."""
        batch = [{**docs[chain], "_id": f"{chain}:{k}"} for chain, k in places]
        clashed: set[int] = set()
        try:
            await self._db[name].insert_many(batch, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(err.get("code") != DUPLICATE_KEY for err in errors):
                raise
            clashed = {int(err["index"]) for err in errors}
        for i, (chain, k) in enumerate(places):
            if i not in clashed:
                self.remember(chain, k + 1)
        return [places[i][0] for i in sorted(clashed)]

    async def read_back(
        self, chain: str, *, end: int, until: Callable[[Document], bool] = lambda _: False
    ) -> list[Document]:
        """The chain's documents before `end`, newest first, back to (and with) the newest
        one `until` accepts (or to the start): read a few at a time, concurrently."""
        out: list[Document] = []
        top, width = end, 4
        while top > 0:
            low = max(0, top - width)
            docs = await asyncio.gather(*(self._get(chain, k) for k in range(top - 1, low - 1, -1)))
            for doc in docs:
                if doc is None:  # pragma: no cover - a chain has no gaps
                    raise RuntimeError(f"fact chain {chain} has a gap below {top}")
                out.append(doc)
                if until(doc):
                    return out
            top, width = low, width * 2
        return out

    async def read_all(self, chain: str) -> list[Document]:
        """Every document of the chain, oldest first."""
        return list(reversed(await self.read_back(chain, end=await self.end(chain))))

    async def _get(self, chain: str, k: int) -> Document | None:
        return await self._collection(chain).find_one({"_id": f"{chain}:{k}"})

    async def set_flag(self, chain: str, k: int, fields: Mapping[str, Any]) -> None:
        """Set fields of a document this process claimed (its only writer)."""
        await self._collection(chain).update_one({"_id": f"{chain}:{k}"}, {"$set": dict(fields)})

    def remembered(self) -> int:
        """How many chain ends this process remembers."""
        return len(self._ends)
