"""Raw database writes, timed: the floor the ledger's own writes are compared with."""

from __future__ import annotations

import time
from collections.abc import Sequence

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from shared.mongo import Document


async def insert_batches(
    collection: AsyncCollection[Document], docs: Sequence[Document], *, batch: int = 1000
) -> float:
    """Ordered `insert_many` in batches; returns the seconds taken (documents are copied)."""
    chunks = [[dict(d) for d in docs[i : i + batch]] for i in range(0, len(docs), batch)]
    started = time.perf_counter()
    for chunk in chunks:
        await collection.insert_many(chunk, ordered=True)
    return time.perf_counter() - started


async def with_entry_index(collection: AsyncCollection[Document]) -> AsyncCollection[Document]:
    """The same unique (shard, index) index the ledger's entries have."""
    await collection.create_index([("shard", ASCENDING), ("index", ASCENDING)], unique=True)
    return collection
