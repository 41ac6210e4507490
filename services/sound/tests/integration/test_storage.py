"""The chunk writer of `MongoSoundStore` on the real server: what it stores is GridFS that
PyMongo's bucket reads back byte for byte, and a body that is short, long or broken leaves
nothing behind."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from gridfs import AsyncGridFSBucket
from pymongo.asynchronous.database import AsyncDatabase

from sound.adapters.mongo_storage import GRIDFS_CHUNK, ChunkTooLong, MongoSoundStore
from sound.domain.uploads import Refused

pytestmark = pytest.mark.integration


async def pieces(
    data: bytes, size: int = 65_536, *, fail_at: int | None = None
) -> AsyncIterator[bytes]:
    """`data` as a request body arrives (64 KiB at a time), optionally broken at `fail_at`."""
    for start in range(0, len(data), size):
        if fail_at is not None and start >= fail_at:
            raise ConnectionResetError("the client went away")
        yield data[start : start + size]


async def test_a_part_is_gridfs_read_back_byte_for_byte(db: AsyncDatabase[dict[str, Any]]) -> None:
    store = MongoSoundStore(db)
    await store.prepare()
    data = os.urandom(4 * GRIDFS_CHUNK + 12_345)  # five chunk documents, the last one short
    assert await store.put_part("up1", 0, pieces(data), length=len(data)) is True
    part = (await store.parts("up1"))[0]
    assert part["sha256"] == hashlib.sha256(data).hexdigest()
    source = await AsyncGridFSBucket(db, bucket_name="audio").open_download_stream(part["file_id"])
    assert source.length == len(data)
    assert await source.read() == data
    assert await db["audio.chunks"].count_documents({"files_id": part["file_id"]}) == 5
    # the same bytes again: not new, and no second copy kept
    assert await store.put_part("up1", 0, pieces(data), length=len(data)) is False
    assert await store.file_count() == 1


async def test_short_long_or_broken_bodies_leave_nothing(db: AsyncDatabase[dict[str, Any]]) -> None:
    store = MongoSoundStore(db)
    await store.prepare()
    data = os.urandom(3 * GRIDFS_CHUNK)
    with pytest.raises(Refused, match="holds"):
        await store.put_part("up2", 0, pieces(data[:-1]), length=len(data))
    with pytest.raises(ChunkTooLong):
        await store.put_part("up2", 0, pieces(data + b"x"), length=len(data))
    with pytest.raises(ConnectionResetError):
        await store.put_part("up2", 0, pieces(data, fail_at=2 * GRIDFS_CHUNK), length=len(data))
    assert await db["audio.chunks"].count_documents({}) == 0
    assert await store.file_count() == 0
    assert await store.parts("up2") == {}


async def test_a_users_listing_is_read_from_their_shard(db: AsyncDatabase[dict[str, Any]]) -> None:
    store = MongoSoundStore(db)
    await store.prepare()
    alice, bob = uuid.uuid4().hex, uuid.uuid4().hex
    ids = sorted(uuid.uuid4().hex for _ in range(5))
    for n, sound_id in enumerate(ids):
        await store.insert_sound({"_id": sound_id, "user_key": alice if n < 4 else bob})
    await store.insert_sound({"_id": ids[0], "user_key": alice})  # a retried validation
    listed = [d["_id"] async for d in store.sounds_of(alice, "", 10)]
    assert listed == ids[:4]
    assert [d["_id"] async for d in store.sounds_of(alice, ids[1], 2)] == ids[2:4]
    assert [d["_id"] async for d in store.sounds_of(bob, "", 10)] == ids[4:]
    shard = store._listing(alice)
    assert await shard.count_documents({"user_key": alice}) == 4
    # a crash between the two writes: the retried write adds the listing copy
    lost = uuid.uuid4().hex
    await db["sounds"].insert_one({"_id": lost, "user_key": bob})
    assert lost not in [d["_id"] async for d in store.sounds_of(bob, "", 10)]
    await store.insert_sound({"_id": lost, "user_key": bob})
    assert lost in [d["_id"] async for d in store.sounds_of(bob, "", 10)]
    assert await store.sound(lost) == {"_id": lost, "user_key": bob}


async def test_sounds_from_before_the_listing_shards_are_listed_after_a_start(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    owner = uuid.uuid4().hex
    old = [{"_id": uuid.uuid4().hex, "user_key": owner} for _ in range(3)]
    await db["sounds"].insert_many(old)  # an older deployment: no listing copies
    store = MongoSoundStore(db)
    await store.prepare()
    listed = [d["_id"] async for d in store.sounds_of(owner, "", 10)]
    assert listed == sorted(d["_id"] for d in old)
    await db["sounds"].insert_one({"_id": uuid.uuid4().hex, "user_key": owner})  # not via the store
    await store.prepare()  # done once: the marker says so
    assert len([d async for d in store.sounds_of(owner, "", 10)]) == 3
