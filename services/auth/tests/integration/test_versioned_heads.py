"""`MongoVersioned` on the real database: concurrent writers of a new key's first versions.

Each version is its own unique insert, but the head copy is an upsert, and two upserts of a
missing head at once collide on FerretDB (find-then-insert): measured 105 DuplicateKeyErrors in
100 rounds of four writers before the fix, each a change written but reported as a failure.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from auth.adapters.mongo_versioned import MongoVersioned

pytestmark = pytest.mark.integration


async def test_concurrent_first_versions_all_succeed_and_load_finds_the_latest(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    versions = MongoVersioned(db, collection="docs")
    for round_ in range(40):
        key = f"k{round_}"
        results = await asyncio.gather(
            *(versions.save(key, version=n, body={"n": n}) for n in (1, 2, 3, 4)),
            return_exceptions=True,
        )
        assert [r for r in results if r is not None] == [], key
        loaded = await versions.load(key)
        assert loaded is not None
        assert (loaded.version, loaded.body) == (4, {"n": 4})
