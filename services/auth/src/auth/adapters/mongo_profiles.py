"""Where profiles live: one versioned document per user key in `profiles`."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from auth.adapters.mongo_versioned import MongoVersioned
from shared.mongo import Document

COLLECTION = "profiles"


def profile_store(db: AsyncDatabase[Document]) -> MongoVersioned:
    """The versioned store of profiles (`_id` = user key, versions `user key#n`)."""
    return MongoVersioned(db, collection=COLLECTION)


async def create_profile_indexes(db: AsyncDatabase[Document]) -> None:
    """Account deletion removes every version of a user by `key`."""
    await db[COLLECTION].create_index("key")
