"""Where profiles live: one versioned document per user key, in one of `SHARDS` collections.

FerretDB serves an `_id` find by reading the whole collection, so a single `profiles`
collection made every Login Kit read cost more with every user (bench E1: 1.07 s p50 at 5,000
users, 32 at a time). The collection a user's versions live in is picked by a hash of the user
key, so a read scans one small shard. Changing `SHARDS` moves every user: it is set once.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from auth.adapters.mongo_versioned import MongoVersioned, Versioned
from shared import mongo
from shared.mongo import Document

COLLECTION = "profiles"
SHARDS = 64


def shard_name(key: str, *, shards: int = SHARDS) -> str:
    """The collection that holds every version of `key`'s profile."""
    return mongo.shard_name(COLLECTION, key, shards=shards)


class ShardedVersioned:
    """A `MongoVersioned` per shard; a key and all its versions stay in one shard."""

    def __init__(self, db: AsyncDatabase[Document], *, shards: int = SHARDS) -> None:
        self._db, self._shards = db, shards
        self._stores = {
            name: MongoVersioned(db, collection=name)
            for name in (f"{COLLECTION}_{n:02x}" for n in range(shards))
        }

    def _store(self, key: str) -> MongoVersioned:
        return self._stores[shard_name(key, shards=self._shards)]

    async def load(self, key: str) -> Versioned | None:
        """The latest version of `key`, or None."""
        return await self._store(key).load(key)

    async def save(self, key: str, *, version: int, body: dict[str, Any]) -> None:
        """Write `version`; VersionConflict when another writer won it."""
        await self._store(key).save(key, version=version, body=body)

    async def delete(self, key: str) -> int:
        """Remove every version of `key` by `_id` (the head and versions 1..latest are all
        there is: versions are written in order), so no secondary index is needed; creating
        one on each of 64 collections cost every start about 2 s on FerretDB."""
        latest = await self.load(key)
        if latest is None:
            return 0
        ids = [key, *(f"{key}#{n}" for n in range(1, latest.version + 1))]
        result = await self._db[shard_name(key, shards=self._shards)].delete_many(
            {"_id": {"$in": ids}}
        )
        return int(result.deleted_count)


def profile_store(db: AsyncDatabase[Document]) -> ShardedVersioned:
    """The versioned store of profiles (`_id` = user key, versions `user key#n`, sharded)."""
    return ShardedVersioned(db)
