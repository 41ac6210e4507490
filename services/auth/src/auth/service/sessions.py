"""Platform sessions: a random token in a cookie, its SHA-256 on the server."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from auth.service.ports import Session, SessionStore, UserStore

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 100


def session_id_of(token: str) -> str:
    """The server-side id of a session token (a leaked database gives no usable cookie)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just created: the token goes in the cookie, never anywhere else."""

    token: str
    session: Session


@dataclass
class Sessions:
    """Creates, resolves and ends sessions."""

    store: SessionStore
    users: UserStore
    ttl_s: int
    clock: Callable[[], float] = time.time

    def new(self, *, user_key: str) -> NewSession:
        """A new session for a user who just proved their number (not stored yet)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self.clock()
        session = Session(
            session_id=session_id_of(token),
            user_key=user_key,
            created_at=now,
            expires_at=now + self.ttl_s,
        )
        return NewSession(token=token, session=session)

    async def start(self, *, user_key: str) -> NewSession:
        """A new, stored session for a user."""
        created = self.new(user_key=user_key)
        await self.store.add(created.session)
        return created

    async def resolve(self, token: str) -> Session | None:
        """The live session a cookie names, or None (unknown, expired, or its user deleted)."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        session = await self.store.get(session_id_of(token))
        if session is None:
            return None
        if self.clock() >= session.expires_at:
            await self.store.remove(session.session_id)
            return None
        return session

    async def end(self, token: str) -> None:
        """Logout: the session stops working at once."""
        if token and len(token) <= MAX_TOKEN_CHARS:
            await self.store.remove(session_id_of(token))
