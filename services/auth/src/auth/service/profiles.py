"""Profiles and public videos: edit by the user, read a page by user key (the Login Kit).

One versioned document per user. Every change is load, apply, save version + 1; a concurrent
writer makes the save fail with `VersionConflict`, and the change is applied again to what
that writer stored, so no edit is lost (FerretDB has no atomic update to lean on).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from auth.domain import profile as rules
from auth.domain.profile import Profile, Video
from auth.domain.video_page import VideoPage, page_of
from auth.service.ports import VersionConflict
from auth.service.profile_ports import VersionedStore

MAX_TRIES = 40  # each round one writer wins, so this covers 40 concurrent edits of one user
BACKOFF_S = 0.005


class ProfileBusy(Exception):
    """Too many concurrent edits of one profile: try again."""


@dataclass(frozen=True, slots=True)
class ProfilePage:
    """A profile and one page of its videos (what the Login Kit shares)."""

    profile: Profile
    page: VideoPage
    video_count: int


def new_video_id() -> str:
    """A random video id (URL-safe, 16 characters)."""
    return secrets.token_urlsafe(12)


@dataclass
class Profiles:
    """The profile handlers."""

    store: VersionedStore
    development: bool
    clock: Callable[[], float] = time.time

    async def get(self, user_key: str) -> Profile:
        """The user's profile (an empty one before the first edit)."""
        stored = await self.store.load(user_key)
        return rules.from_body(stored.body) if stored else Profile()

    async def edit(
        self, user_key: str, *, display_name: str, avatar_url: str | None, bio: str
    ) -> Profile:
        """Replace display name, avatar and bio; the videos are kept."""

        def apply(p: Profile) -> Profile:
            return rules.edited(
                p,
                display_name=display_name,
                avatar_url=avatar_url,
                bio=bio,
                development=self.development,
            )

        return await self.change(user_key, apply)

    async def add_video(
        self,
        user_key: str,
        *,
        title: str,
        cover_url: str,
        duration_s: int,
        video_id: str | None = None,
        created_ms: int | None = None,
    ) -> Video:
        """Add one video (an id already in the list changes nothing); `TooManyVideos` at the cap."""
        video = rules.new_video(
            video_id=video_id or new_video_id(),
            title=title,
            cover_url=cover_url,
            duration_s=duration_s,
            created_ms=created_ms if created_ms is not None else int(self.clock() * 1000),
            development=self.development,
        )
        await self.change(user_key, lambda p: rules.with_video(p, video))
        return video

    async def remove_video(self, user_key: str, video_id: str) -> None:
        """Delete one video; `VideoNotFound` if the user has no such video."""
        await self.change(user_key, lambda p: rules.without_video(p, video_id))

    async def page(self, user_key: str, *, cursor: str | None, max_count: int) -> ProfilePage:
        """The profile and a page of videos, newest first (one `_id` read)."""
        profile = await self.get(user_key)
        page = page_of(profile.videos, cursor=cursor, max_count=max_count)
        return ProfilePage(profile=profile, page=page, video_count=len(profile.videos))

    async def delete_user(self, user_key: str) -> int:
        """Forget the user's profile and videos, every version (account deletion)."""
        return await self.store.delete(user_key)

    async def change(self, user_key: str, apply: Callable[[Profile], Profile]) -> Profile:
        """Apply `apply` to the latest profile and store the result, again on a conflict."""
        for attempt in range(MAX_TRIES):
            stored = await self.store.load(user_key)
            before = rules.from_body(stored.body) if stored else Profile()
            after = apply(before)  # a rule error ends it here, nothing written
            if after == before and stored is not None:
                return after
            try:
                await self.store.save(
                    user_key,
                    version=(stored.version if stored else 0) + 1,
                    body=rules.to_body(after),
                )
            except VersionConflict:
                # Jittered, so the losers of one round do not collide again in lockstep.
                await asyncio.sleep(random.uniform(0, BACKOFF_S * (attempt + 1)))
                continue
            return after
        raise ProfileBusy("the profile is being changed by many requests at once; try again")
