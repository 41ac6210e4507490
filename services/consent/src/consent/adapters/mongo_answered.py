"""`answered_challenges`: one document per answered challenge (`_id` = its jti), inserted once."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document, insert_once


class MongoAnsweredChallenges:
    """Answered challenges; kept until they expire, then swept (no TTL on FerretDB)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._c: AsyncCollection[Document] = db["answered_challenges"]

    async def claim(self, challenge_id: str, *, expires_at: float) -> bool:
        """True for the first answer only (a unique `_id`)."""
        doc = {"_id": challenge_id, "expires_at": datetime.fromtimestamp(expires_at, UTC)}
        return await insert_once(self._c, doc)

    async def answered(self, challenge_id: str) -> bool:
        """Whether the challenge was already answered."""
        return await self._c.find_one({"_id": challenge_id}, projection={"_id": 1}) is not None

    async def sweep(self, *, now: float) -> int:
        """Forget expired challenges (an expired one is refused before this is read)."""
        gone = await self._c.delete_many({"expires_at": {"$lt": datetime.fromtimestamp(now, UTC)}})
        return int(gone.deleted_count)
