"""A database from before the login collections were split is moved into the shards at start."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from auth.adapters.mongo_login import (
    CHALLENGES,
    LOOKUPS,
    SESSIONS,
    MongoLookups,
    create_login_indexes,
    move_unsplit,
)
from shared.mongo import Shards

pytestmark = pytest.mark.integration


async def test_the_single_collections_are_moved_once(db: AsyncDatabase[dict[str, Any]]) -> None:
    at = datetime.fromtimestamp(time.time() + 600, UTC).replace(microsecond=0)
    lookups = [
        {"_id": uuid.uuid4().hex * 2, "key_id": "lk1", "user_key": f"uk-{n}"} for n in range(40)
    ]
    await db[LOOKUPS].insert_many(lookups)
    await db[SESSIONS].insert_one(
        {"_id": uuid.uuid4().hex, "user_key": "uk-1", "created_at": at, "expires_at": at}
    )
    await db[CHALLENGES].insert_one({"_id": uuid.uuid4().hex * 2, "serial": 1})
    await create_login_indexes(db)
    names = set(await db.list_collection_names())
    assert not names & {LOOKUPS, SESSIONS, CHALLENGES}  # dropped once copied
    assert await Shards(db, LOOKUPS).count() == 40
    assert [await Shards(db, k).count() for k in (SESSIONS, CHALLENGES)] == [1, 1]
    found = await MongoLookups(db).get(lookups[7]["_id"])  # read as login reads it
    assert found is not None
    assert found.user_key == "uk-7"
    assert await move_unsplit(db) == 0  # nothing left to move
