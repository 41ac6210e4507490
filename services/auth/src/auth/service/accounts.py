"""Account deletion: on the record first, then every trace of the user in auth goes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from auth.service.ports import EventPublisher, LookupStore, SessionStore, UserStore
from shared.events import auth, make_event

Eraser = Callable[[str], Awaitable[object]]


@dataclass
class Accounts:
    """Deletes a user's account."""

    lookups: LookupStore
    sessions: SessionStore
    users: UserStore
    publisher: EventPublisher
    source: str
    erasers: list[Eraser] = field(default_factory=list)  # other areas' data (profiles, …)

    async def delete(self, *, user_key: str) -> None:
        """Publish `auth.user_deleted.v1` durably (else PublishFailed, nothing deleted), then
        delete the lookups (the last link to the number), sessions, profile and the user."""
        await self.publisher.publish(
            make_event(auth.UserDeleted(user_key=user_key), source=self.source)
        )
        await self.lookups.remove_user(user_key)
        await self.sessions.remove_user(user_key)  # first, so no edit of theirs is in flight
        for erase in self.erasers:
            await erase(user_key)
        await self.users.remove(user_key)
