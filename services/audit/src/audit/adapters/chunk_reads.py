"""A shard's stored chunks in index order, streamed: the full audit and shard loads read this.

FerretDB sorts in Go only after reading every document, so a sorted read cannot start early:
chunks are read in natural (insertion) order, a few ahead of the one being processed, and
put in index order here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from pymongo.asynchronous.collection import AsyncCollection

from audit.adapters.chunks import Run, decode_chunk
from shared.mongo import Document

READ_AHEAD = 8
"""Chunks read ahead of the one being processed (a full audit hashes while FerretDB reads)."""
MAX_WAITING = 32
"""Chunks held while the one before them has not come (a read keeps memory bounded)."""

_Queue = asyncio.Queue[Document | Exception | None]


async def _fetch(stored: AsyncCollection[Document], queue: _Queue) -> None:
    """Every chunk of the shard as stored into the queue, then None (or the failure)."""
    cursor = stored.find({}, batch_size=READ_AHEAD)
    try:
        async for doc in cursor:
            await queue.put(doc)
    except Exception as exc:  # noqa: BLE001 - handed to the reader, raised there
        await queue.put(exc)
        return
    finally:
        await cursor.close()
    await queue.put(None)


class _InOrder:
    """Chunks as they arrive in, chunks in index order out (at most MAX_WAITING held)."""

    def __init__(self, stored: AsyncCollection[Document], *, shard: str) -> None:
        self._stored, self._shard = stored, shard
        self._waiting: dict[int, Run] = {}
        self._strays: list[Run] = []  # overlapping an earlier chunk: only a forger writes these
        self._asked: set[int] = set()
        self._following = 0

    async def arrived(self, chunk: Run) -> list[Run]:
        """Take the next chunk read; return those now due, in index order."""
        waiting, following = self._waiting, self._following
        if chunk.start in self._asked:  # already read by `_id` below
            self._asked.discard(chunk.start)
        elif chunk.start < following or chunk.start in waiting:
            self._strays.append(chunk)
        else:
            waiting[chunk.start] = chunk
        if len(waiting) > MAX_WAITING and following not in waiting:
            found = await self._stored.find_one({"_id": following})
            if found is None:
                following = min(waiting)
            else:
                self._asked.add(following)
                waiting[following] = decode_chunk(self._shard, found)
        due = []
        while following in waiting:
            due.append(waiting.pop(following))
            following = due[-1].start + len(due[-1].ids)
        self._following = following
        return due

    def rest(self) -> list[Run]:
        """Once every chunk was read: those still held, by their first index (the reader
        sees the gaps and overlaps)."""
        return sorted([*self._waiting.values(), *self._strays], key=lambda c: c.start)


async def read_in_order(stored: AsyncCollection[Document], *, shard: str) -> AsyncGenerator[Run]:
    """The shard's chunks in index order, read ahead while the caller works.

    Chunks arrive in insertion order, which is index order unless writers raced or the store
    was tampered with; one that comes early waits (at most MAX_WAITING of them) until its
    predecessor has come. Past that, the predecessor is asked for by `_id`; if it is not
    stored, the earliest waiting chunk follows, and the reader sees the gap.
    """
    queue: _Queue = asyncio.Queue(maxsize=READ_AHEAD)
    reader = asyncio.create_task(_fetch(stored, queue))
    try:
        order = _InOrder(stored, shard=shard)
        while (doc := await queue.get()) is not None:
            if isinstance(doc, Exception):
                raise doc
            for chunk in await order.arrived(decode_chunk(shard, doc)):
                yield chunk
        await reader
        for chunk in order.rest():
            yield chunk
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
