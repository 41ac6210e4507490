"""`seed-demo`: demo users a developer can log in as, written the way login writes them.

Each number's lookup `_id` is derived exactly as login derives it (`LookupKeys.ids`), and
the lookup, user and profile go through the same stores, so a demo user logs in with the
dev SMS sender like anyone else. Running it again changes nothing: the number's lookup
finds the same user key, and the demo videos have fixed ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auth.domain import profile as rules
from auth.domain.identity import LookupKeys, new_user_key
from auth.domain.profile import Profile
from auth.service.demo_data import DemoUser
from auth.service.ports import EventPublisher, Lookup, LookupStore, UserStore
from auth.service.profiles import Profiles
from shared.events import auth, make_event

DEMO_EPOCH_MS = 1_767_225_600_000  # 2026-01-01 UTC: fixed, so reruns store the same videos
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the seed did for one demo user."""

    phone: str
    user_key: str
    created: bool
    videos: int


@dataclass
class DemoSeeder:
    """Creates or refreshes demo users."""

    lookups: LookupStore
    users: UserStore
    profiles: Profiles
    keys: LookupKeys
    publisher: EventPublisher
    source: str

    async def seed(self, people: Sequence[DemoUser]) -> list[Seeded]:
        """Each demo user exists once with their profile and videos."""
        return [await self._one(person) for person in people]

    async def _one(self, person: DemoUser) -> Seeded:
        user_key, created = await self._user_key(person.phone)
        if created or not await self.users.exists(user_key):
            key_id = self.keys.current
            event = make_event(
                auth.UserSignedUp(user_key=user_key, hash_key_id=key_id), source=self.source
            )
            await self.publisher.publish(event)
            await self.users.add(user_key, created_at=DEMO_EPOCH_MS / 1000)
        profile = await self.profiles.change(user_key, lambda p: self._demo_profile(p, person))
        return Seeded(
            phone=person.phone, user_key=user_key, created=created, videos=len(profile.videos)
        )

    async def _user_key(self, e164: str) -> tuple[str, bool]:
        """The number's user key (re-keying an old lookup as login does), or a new one."""
        (current_kid, current_id), *older = self.keys.ids(e164=e164)
        found = await self.lookups.get(current_id)
        if found is not None:
            return found.user_key, False
        for _, old_id in older:
            old = await self.lookups.get(old_id)
            if old is not None:
                await self.lookups.add(
                    Lookup(lookup_id=current_id, key_id=current_kid, user_key=old.user_key)
                )
                await self.lookups.remove(old_id)
                return old.user_key, False
        user_key = new_user_key()
        if await self.lookups.add(
            Lookup(lookup_id=current_id, key_id=current_kid, user_key=user_key)
        ):
            return user_key, True
        winner = await self.lookups.get(current_id)  # a concurrent seed or login got there first
        if winner is None:
            raise RuntimeError("the lookup vanished while seeding; run the seed again")
        return winner.user_key, False

    def _demo_profile(self, profile: Profile, person: DemoUser) -> Profile:
        p = rules.edited(
            profile,
            display_name=person.display_name,
            avatar_url=person.avatar_url(),
            bio=person.bio,
            development=self.profiles.development,
        )
        for i, demo in enumerate(person.videos):
            video = rules.new_video(
                video_id=f"demo-{i:03d}",
                title=demo.title,
                cover_url=person.cover_url(i),
                duration_s=demo.duration_s,
                created_ms=DEMO_EPOCH_MS + i * DAY_MS,
                development=self.profiles.development,
            )
            p = rules.with_video(p, video)
        return p
