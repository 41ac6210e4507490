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

from audit.adapters.chunks import Chunk, decode_chunk
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


async def read_in_order(stored: AsyncCollection[Document], *, shard: str) -> AsyncGenerator[Chunk]:
    """The shard's chunks in index order, read ahead while the caller works.

    Chunks arrive in insertion order, which is index order unless writers raced or the store
    was tampered with; one that comes early waits (at most MAX_WAITING of them) until its
    predecessor has come. Past that, the predecessor is asked for by `_id`; if it is not
    stored, the earliest waiting chunk follows, and the reader sees the gap.
    """
    queue: _Queue = asyncio.Queue(maxsize=READ_AHEAD)
    reader = asyncio.create_task(_fetch(stored, queue))
    try:
        waiting: dict[int, Chunk] = {}
        strays: list[Chunk] = []  # overlapping an earlier chunk: only a forger writes these
        asked: set[int] = set()
        following = 0
        while (doc := await queue.get()) is not None:
            if isinstance(doc, Exception):
                raise doc
            chunk = decode_chunk(shard, doc)
            if chunk.start in asked:  # already read by `_id` below
                asked.discard(chunk.start)
            elif chunk.start < following or chunk.start in waiting:
                strays.append(chunk)
            else:
                waiting[chunk.start] = chunk
            if len(waiting) > MAX_WAITING and following not in waiting:
                found = await stored.find_one({"_id": following})
                if found is None:
                    following = min(waiting)
                else:
                    asked.add(following)
                    waiting[following] = decode_chunk(shard, found)
            while following in waiting:
                chunk = waiting.pop(following)
                following = chunk.start + len(chunk.ids)
                yield chunk
        await reader
        for chunk in sorted([*waiting.values(), *strays], key=lambda c: c.start):
            yield chunk
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
