"""Field-by-field comparison of two consent databases (the live one and a replay's)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from consent.adapters.mongo_consents import HEADS, VERSIONS, MongoConsents
from shared.mongo import Document

MAX_LISTED = 20


async def differences(
    live: AsyncDatabase[Document], rebuilt: AsyncDatabase[Document], *, shards: int
) -> list[str]:
    """Every document of the versions and heads that is missing, extra or has another field
    value in the rebuilt database (at most `MAX_LISTED` named per collection)."""
    found: list[str] = []
    for name in (VERSIONS, HEADS):
        a = await _all(MongoConsents(live, shards=shards), name)
        b = await _all(MongoConsents(rebuilt, shards=shards), name)
        problems = [f"{name} {i}: only live" for i in sorted(a.keys() - b.keys())]
        problems += [f"{name} {i}: only rebuilt" for i in sorted(b.keys() - a.keys())]
        for key in sorted(a.keys() & b.keys()):
            fields = sorted(
                f for f in a[key].keys() | b[key].keys() if a[key].get(f) != b[key].get(f)
            )
            if fields:
                problems.append(f"{name} {key}: {', '.join(fields)} differ")
        found += problems[:MAX_LISTED]
    return found


async def _all(store: MongoConsents, kind: str) -> dict[str, dict[str, Any]]:
    return {str(d["_id"]): d for d in await store.every(kind)}
