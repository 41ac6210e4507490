"""The profile handlers on the real database: the Login Kit's read and account deletion."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from auth.adapters.mongo_profiles import profile_store, shard_name
from auth.domain.identity import new_user_key
from auth.service.profiles import Profiles

pytestmark = pytest.mark.integration


@pytest.fixture
async def profiles(db: AsyncDatabase[dict[str, Any]]) -> Profiles:
    return Profiles(store=profile_store(db), development=False)


async def _add(profiles: Profiles, user_key: str, i: int) -> str:
    video = await profiles.add_video(
        user_key, title=f"clip {i}", cover_url=f"https://c.example/{i}.jpg", duration_s=5 + i
    )
    return video.video_id


async def test_login_kit_page_by_user_key_is_stable_while_videos_are_added(
    profiles: Profiles,
) -> None:
    user = new_user_key()
    await profiles.edit(user, display_name="Ada", avatar_url=None, bio="")
    ids = []
    for i in range(7):
        ids.append(await _add(profiles, user, i))
        await asyncio.sleep(0.002)
    first = await profiles.page(user, cursor=None, max_count=3)
    assert first.profile.display_name == "Ada"
    assert first.video_count == 7
    assert [v.video_id for v in first.page.videos] == ids[::-1][:3]
    for i in range(7, 10):  # new uploads while the app pages
        await _add(profiles, user, i)
    second = await profiles.page(user, cursor=first.page.cursor, max_count=3)
    third = await profiles.page(user, cursor=second.page.cursor, max_count=3)
    assert [v.video_id for v in (*second.page.videos, *third.page.videos)] == ids[::-1][3:]
    assert not third.page.has_more


async def test_an_unknown_user_has_an_empty_profile(profiles: Profiles) -> None:
    page = await profiles.page(new_user_key(), cursor=None, max_count=20)
    assert (page.profile.display_name, page.video_count, page.page.videos) == ("", 0, ())


async def test_delete_user_removes_every_version_and_only_that_user(
    profiles: Profiles, db: AsyncDatabase[dict[str, Any]]
) -> None:
    gone, kept = new_user_key(), new_user_key()
    for user in (gone, kept):
        await profiles.edit(user, display_name="Someone", avatar_url=None, bio="a private bio")
        for i in range(4):
            await _add(profiles, user, i)
    assert await db[shard_name(gone)].count_documents({"key": gone}) == 6  # 5 versions and the head
    assert await profiles.delete_user(gone) == 6
    assert await db[shard_name(gone)].count_documents({"key": gone}) == 0
    assert (await profiles.get(gone)).display_name == ""
    assert (await profiles.page(kept, cursor=None, max_count=20)).video_count == 4
    # Old versions keep no body (the bio of long ago is not kept forever).
    old = await db[shard_name(kept)].find_one({"_id": f"{kept}#1"})
    assert old is not None
    assert old["body"] == {}


async def test_32_concurrent_adds_for_one_user_all_land(profiles: Profiles) -> None:
    user = new_user_key()
    ids = await asyncio.gather(*(_add(profiles, user, i) for i in range(32)))
    page = await profiles.page(user, cursor=None, max_count=20)
    rest = await profiles.page(user, cursor=page.page.cursor, max_count=20)
    listed = {v.video_id for v in (*page.page.videos, *rest.page.videos)}
    assert listed == set(ids)
    assert page.video_count == 32
