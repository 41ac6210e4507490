"""E1's profiles (UUIDv7-keyed users, stored as the sharded profile store stores them) and the
read-back of a run's transfer records. The rest of E's world is `bench.auth_oauth_world`."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from pymongo.asynchronous.database import AsyncDatabase

from auth.adapters.mongo_profiles import shard_name
from shared.mongo import Document


async def seed(db: AsyncDatabase[Document], users: list[str], rng: random.Random) -> None:
    """Profiles as the versioned store writes them: a head and version 1 per user."""
    now = datetime.now(UTC)
    by_shard: dict[str, list[dict[str, object]]] = {}
    for user_key in users:
        videos = [
            {
                "id": f"v{n}-{user_key[-8:]}",
                "title": f"Clip {n}",
                "cover_url": f"https://cdn.example/{user_key[-12:]}/{n}.jpg",
                "duration_s": rng.randint(5, 600),
                "created_ms": 1_760_000_000_000 + n * 86_400_000,
            }
            for n in range(rng.randint(3, 10))
        ]
        body = {
            "display_name": f"User {user_key[-6:]}",
            "avatar_url": f"https://cdn.example/a/{user_key[-12:]}.png",
            "bio": "Films things. " * rng.randint(1, 8),
            "videos": videos,
        }
        base = {"key": user_key, "version": 1, "body": body, "at": now}
        shard = by_shard.setdefault(shard_name(user_key), [])
        shard += [{"_id": user_key, **base}, {"_id": f"{user_key}#1", **base}]
    for name, docs in by_shard.items():
        for start in range(0, len(docs), 1000):
            await db[name].insert_many(docs[start : start + 1000])


async def read_back(bootstrap: str, topic: str, *, count: int) -> list[tuple[bytes | None, bytes]]:
    """The first `count` records of the run's topic, as (key, value)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[tuple[bytes | None, bytes]] = []
    try:
        async with asyncio.timeout(60):
            while len(found) < count:
                for part in (await consumer.getmany(timeout_ms=500)).values():
                    found += [(r.key, r.value) for r in part if r.value is not None]
    finally:
        await consumer.stop()
    return found
