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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import bson
from bson.codec_options import CodecOptions
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shared.mongo import DUPLICATE_KEY, Document

BUCKETS = 16
"""Measured on FerretDB: 350 documents a batch cost the same over 16 collections as over one
(50 ms); over 64 they cost 190 ms."""
CACHE_CHAINS = 1_000_000
"""Chain ends remembered (about 180 bytes each); beyond that the oldest is forgotten."""
TAIL_BYTES = 64 * 1024 * 1024
"""Packed bytes of the tails kept (a user's documents since their newest judgement, as this
process wrote or read them); beyond that the least recently used goes."""
_ATTEMPTS = 32
COMPRESS_FROM = 2048
"""Bodies of at least this many BSON bytes are compressed (a judgement holds all a user's rows)."""
RAW = b"\x00"
"""The first byte of a body stored as plain BSON."""


def bucket_name(chain: str) -> str:
    """The collection that holds a chain."""
    return f"facts_{zlib.crc32(chain.encode()) % BUCKETS:02d}"


def pack(body: Document) -> bytes:
    """BSON in one binary value (FerretDB converts every field value it stores or reads, so
    rows that are only ever read whole travel as one), zlib-compressed from COMPRESS_FROM bytes.

    A small body is stored as `RAW` + its BSON: a batch writes one such document per user it
    concerns (about 400 per 1,000 events), and zlib's set-up alone cost ~45 us each (20 ms a
    batch, measured) to save a fifth of 300-500 bytes. A zlib stream never starts with `RAW`
    (its first byte names the deflate method, 0x?8), so both kinds read back alike.
    """
    raw = bson.encode(body)
    return zlib.compress(raw, 1) if len(raw) >= COMPRESS_FROM else RAW + raw


def unpack(blob: bytes, options: CodecOptions[Document]) -> Document:
    """The body `pack` made."""
    raw = blob[1:] if blob[:1] == RAW else zlib.decompress(blob)
    body: Document = bson.decode(raw, codec_options=options)
    return body


class Chains:
    """Appends and reads of chains; remembers the ends it saw (a hint, never more than true)
    and, for chains named `<tail_prefix>…`, their documents from the newest one `base`
    accepts (or from the start) to that end, so the judge and reports of users this process
    wrote read nothing but an end probe (a stale tail only makes a claim at its end lose)."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        base: Callable[[Document], bool] = lambda _: False,
        tail_prefix: str = "u:",
    ) -> None:
        self._db = db
        self._ends: OrderedDict[str, int] = OrderedDict()
        self._base, self._tail_prefix = base, tail_prefix
        self._tails: OrderedDict[str, _Tail] = OrderedDict()
        """chain → its documents from `start`, oldest first; they end at the remembered end."""
        self._tail_bytes = 0

    def _keep(self, chain: str, start: int, docs: list[Document]) -> None:
        self._drop(chain)
        if chain.startswith(self._tail_prefix):
            self._tails[chain] = tail = _Tail(start=start, docs=docs, size=_size(docs))
            self._grown(tail.size)

    def _grown(self, size: int) -> None:
        """The tails hold `size` more bytes: forget the least recently used past TAIL_BYTES."""
        self._tail_bytes += size
        while self._tail_bytes > TAIL_BYTES and self._tails:
            _, old = self._tails.popitem(last=False)
            self._tail_bytes -= old.size

    def _drop(self, chain: str) -> None:
        old = self._tails.pop(chain, None)
        if old is not None:
            self._tail_bytes -= old.size

    def _after_insert(self, chain: str, k: int, doc: Document, *, won: bool) -> None:
        tail = self._tails.get(chain)
        if not won:
            self._drop(chain)
        elif self._base(doc) or k == 0:
            self._keep(chain, k, [doc])
        elif tail is not None and tail.start + len(tail.docs) == k:
            # Extended in place (the list is this store's own): a copy per append made each
            # one cost as much as the tail, and a busy user's tail is long until judged.
            tail.docs.append(doc)
            tail.size += _size([doc])
            self._tails.move_to_end(chain)
            self._grown(_size([doc]))
        else:
            self._drop(chain)

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

    async def end(self, chain: str, *, probe: bool = True) -> int:
        """The first free place: probes forward from the remembered end, galloping (without
        `probe`, a remembered end is taken as it is: a writer at it then finds out)."""
        low = self._ends.get(chain, 0)
        if not probe and chain in self._ends:
            return low
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

    async def insert_at(self, places: Sequence[tuple[str, int, Document]]) -> list[bool]:
        """Put each document at its chain's place k (a bulk insert per bucket); False where
        that place was taken."""
        stored = [{**doc, "_id": f"{chain}:{k}"} for chain, k, doc in places]
        by_bucket: dict[str, list[int]] = {}
        for i, (chain, _, _) in enumerate(places):
            by_bucket.setdefault(bucket_name(chain), []).append(i)
        clashes = await asyncio.gather(
            *(self._insert_bucket(name, [stored[i] for i in ix]) for name, ix in by_bucket.items())
        )
        won = [True] * len(places)
        for ix, clashed in zip(by_bucket.values(), clashes, strict=True):
            for j in clashed:
                won[ix[j]] = False
        for (chain, k, _), doc, ok in zip(places, stored, won, strict=True):
            self._after_insert(chain, k, doc, won=ok)
            self.remember(chain, k + 1)  # taken by this insert or another: the end is past it
        return won

    async def append(self, docs: Mapping[str, Document]) -> None:
        """Append one document to each chain (a bulk insert per bucket; clashes retried)."""
        todo = dict(docs)
        for _ in range(_ATTEMPTS):
            if not todo:
                return
            places = [(chain, self._ends.get(chain, 0), doc) for chain, doc in todo.items()]
            won = await self.insert_at(places)
            todo = {
                chain: todo[chain] for (chain, _, _), ok in zip(places, won, strict=True) if not ok
            }
            await asyncio.gather(*(self.end(chain) for chain in todo))
        if todo:
            raise RuntimeError(f"could not append to {len(todo)} fact chains")

    async def _insert_bucket(self, name: str, batch: list[Document]) -> set[int]:
        """Insert unordered; the positions whose `_id` was taken."""
        try:
            await self._db[name].insert_many(batch, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(err.get("code") != DUPLICATE_KEY for err in errors):
                raise
            return {int(err["index"]) for err in errors}
        return set()

    async def read_back(
        self, chain: str, *, end: int, until: Callable[[Document], bool] = lambda _: False
    ) -> list[Document]:
        """The chain's documents before `end`, newest first, back to (and with) the newest
        one `until` accepts (or to the start): from the tail kept in memory when it ends
        there, else read a few at a time, concurrently."""
        kept = self._from_tail(chain, end=end, until=until)
        if kept is not None:
            return kept
        out = await self._read_back(chain, end=end, until=until)
        if out and (len(out) == end or until(out[-1])):
            self._keep(chain, end - len(out), list(reversed(out)))
        return out

    def _from_tail(
        self, chain: str, *, end: int, until: Callable[[Document], bool]
    ) -> list[Document] | None:
        tail = self._tails.get(chain)
        if tail is None or not tail.docs:
            return None
        start, docs = tail.start, tail.docs
        if start + len(docs) != end or not (start == 0 or until(docs[0])):
            return None
        self._tails.move_to_end(chain)
        out = []
        for doc in reversed(docs):
            out.append(doc)
            if until(doc):
                break
        return out

    async def _read_back(
        self, chain: str, *, end: int, until: Callable[[Document], bool]
    ) -> list[Document]:
        out: list[Document] = []
        top, width = end, 2  # usually the newest judgement is one or two back
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

    async def read_from(self, chain: str, start: int) -> tuple[int, list[Document]]:
        """The chain's end and its documents from `start` to it, oldest first."""
        end = await self.end(chain)
        docs = await asyncio.gather(*(self._get(chain, k) for k in range(start, end)))
        if any(d is None for d in docs):  # pragma: no cover - a chain has no gaps
            raise RuntimeError(f"fact chain {chain} has a gap below {end}")
        return end, [d for d in docs if d is not None]

    async def _get(self, chain: str, k: int) -> Document | None:
        return await self._collection(chain).find_one({"_id": f"{chain}:{k}"})

    def remembered(self) -> int:
        """How many chain ends this process remembers."""
        return len(self._ends)

    def tail_bytes(self) -> int:
        """Packed bytes of the tails kept in memory."""
        return self._tail_bytes


@dataclass(slots=True)
class _Tail:
    """A chain's documents kept in memory, from index `start`, and their packed bytes."""

    start: int
    docs: list[Document]
    size: int


def _size(docs: list[Document]) -> int:
    return sum(len(d.get("z", b"")) + 100 for d in docs)
