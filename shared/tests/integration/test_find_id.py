"""`find_id`, the hot read by `_id`, on the real server: what `find_one` would answer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import find_id

pytestmark = pytest.mark.integration


async def test_find_id_answers_as_find_one_does(db: AsyncDatabase[dict[str, Any]]) -> None:
    at = datetime(2026, 12, 2, 14, 0, 0, 123000, tzinfo=UTC)
    docs = [
        {"_id": str(uuid.uuid4()), "n": n, "at": at, "raw": b"\x00\x01", "xs": [1, "a"]}
        for n in range(50)
    ]
    await db.things.insert_many(docs)
    for doc in docs[::7]:
        found = await find_id(db.things, doc["_id"])
        assert found == await db.things.find_one({"_id": doc["_id"]}) == doc
        assert found is not None
        assert found["at"].tzinfo is not None  # decoded with the client's codec options
    assert await find_id(db.things, "no-such-id") is None
    assert await find_id(db.missing_collection, "x") is None
    await db.numbers.insert_one({"_id": 7, "v": "seven"})
    assert await find_id(db.numbers, 7) == {"_id": 7, "v": "seven"}
