"""Profiles in MongoDB: one document per user, `_id` = the user key (every read is by `_id`)."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from kits_example.domain.model import Profile
from shared.mongo import Document

PROFILES = "profiles"


class MongoProfileStore:
    """The `ProfileStore` port on MongoDB or FerretDB."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._profiles = db[PROFILES]

    async def save(self, profile: Profile) -> None:
        """Create or replace the profile (a whole-document write by `_id`: no condition)."""
        await self._profiles.replace_one(
            {"_id": profile.user_key}, {"username": profile.username}, upsert=True
        )

    async def get(self, user_key: str) -> Profile | None:
        """The profile, or None."""
        found = await self._profiles.find_one({"_id": user_key})
        if found is None:
            return None
        return Profile(user_key=found["_id"], username=found["username"])
