"""Counting by unique inserts: slot `n` of a window is the document `key:n`, inserted once.

`$inc` on FerretDB loses increments under concurrency, and a count is a scan; a unique `_id`
admits exactly one writer. So a window of `limit` slots admits at most `limit` requests however
many arrive at once. Slots are taken in order, so the taken ones are always `0..k-1`: a fresh
process finds `k` by a binary search of `_id` reads, then keeps a hint in memory.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.mongo import Document

MAX_HINTS = 100_000


class MongoSlots:
    """Windows of slots in one collection; expired windows are swept in code (no TTL)."""

    def __init__(self, db: AsyncDatabase[Document], *, collection: str = "slots") -> None:
        self._slots: AsyncCollection[Document] = db[collection]
        self._hints: dict[str, int] = {}

    async def take(self, *, key: str, limit: int, expires_at: float) -> bool:
        """Take the next free slot of the window `key`; False when all `limit` are taken."""
        expires = datetime.fromtimestamp(expires_at, UTC)
        n = self._hints.get(key)
        if n is None:  # most windows are new: try the first slot before searching
            if limit > 0 and await self._insert(key, 0, expires):
                return True
            n = await self._taken(key, limit)
        while n < limit:
            if await self._insert(key, n, expires):
                return True
            n = max(n + 1, self._hints.get(key, 0))
        return False

    def known_full(self, *, key: str, limit: int) -> bool:
        """Whether this process already saw every slot of window `key` taken (no I/O)."""
        return self._hints.get(key, 0) >= limit

    async def _insert(self, key: str, n: int, expires: datetime) -> bool:
        try:
            await self._slots.insert_one({"_id": f"{key}:{n}", "expires_at": expires})
        except DuplicateKeyError:
            self._hint(key, n + 1)
            return False
        self._hint(key, n + 1)
        return True

    async def sweep(self, *, now: float) -> int:
        """Delete the slots of windows that have ended; how many went."""
        result = await self._slots.delete_many(
            {"expires_at": {"$lt": datetime.fromtimestamp(now, UTC)}}
        )
        self._hints.clear()
        return int(result.deleted_count)

    async def _taken(self, key: str, limit: int) -> int:
        lo, hi = 0, limit  # slots 0..lo-1 are known taken; hi is known free (or the limit)
        while lo < hi:
            mid = (lo + hi) // 2
            if await self._slots.find_one({"_id": f"{key}:{mid}"}, projection={"_id": 1}):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _hint(self, key: str, n: int) -> None:
        if len(self._hints) >= MAX_HINTS:
            self._hints.clear()  # a hint is only a shortcut; losing it costs a few reads
        self._hints[key] = max(n, self._hints.get(key, 0))
