"""What the auth handlers need from the outside; the Mongo/Kafka adapters and the fakes fit these.

Ports of one area live beside its handlers' needs: login and sessions here; the app registry
in `service/app_ports.py`; profiles and videos in `service/profile_ports.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from auth.domain.otp import Challenge
from shared.events import CloudEvent


class VersionConflict(Exception):
    """Another writer saved the same version first: read again and reapply the change."""


class EventPublisher(Protocol):
    """Durable publish: the shared `DurablePublisher`, or a test's fake."""

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> Any:
        """Return once the broker acknowledged the event, or raise `PublishFailed` in time."""


class SmsSender(Protocol):
    """Sends a text message to a number (E.164); the number is never logged or kept."""

    async def send(self, *, to: str, body: str) -> None:
        """Deliver or raise `SmsFailed`."""


class SmsFailed(Exception):
    """The provider did not accept the message (its reason, with any number redacted)."""


class Slots(Protocol):
    """Windows of slots, each taken by a unique insert (see `adapters/mongo_slots.py`)."""

    async def take(self, *, key: str, limit: int, expires_at: float) -> bool:
        """Take the next free slot of window `key`; False when all `limit` are taken."""

    def known_full(self, *, key: str, limit: int) -> bool:
        """Whether this process already saw every slot of window `key` taken (no I/O)."""

    async def sweep(self, *, now: float) -> int:
        """Delete the slots of ended windows."""


class ChallengeStore(Protocol):
    """Live login challenges by `challenge_id` (a keyed hash of the number)."""

    async def put(self, challenge: Challenge) -> None:
        """Create or replace the number's challenge (a new code replaces the old one)."""

    async def get(self, challenge_id: str) -> Challenge | None:
        """The challenge, if one is live or not yet swept."""

    async def claim(self, challenge: Challenge) -> bool:
        """Delete this very challenge (same serial); True for exactly one caller."""

    async def sweep(self, *, now: float) -> int:
        """Delete expired challenges."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """A lookup document: `lookup_id` = HMAC(key `key_id`, number) → the user key."""

    lookup_id: str
    key_id: str
    user_key: str


class LookupStore(Protocol):
    """The only link from a number to a user: keyed-hash `_id`s, nothing else of the number."""

    async def get(self, lookup_id: str) -> Lookup | None:
        """The lookup with this `_id`."""

    async def add(self, lookup: Lookup) -> bool:
        """Insert once; False when that `_id` already exists."""

    async def remove(self, lookup_id: str) -> None:
        """Delete one lookup (after re-keying it under the current key)."""

    async def remove_user(self, user_key: str) -> int:
        """Delete every lookup of a user (account deletion); how many went."""


@dataclass(frozen=True, slots=True)
class Session:
    """A browser's login: the token is in the cookie; the store keeps only its SHA-256."""

    session_id: str  # SHA-256 (hex) of the cookie's token
    user_key: str
    created_at: float
    expires_at: float


class SessionStore(Protocol):
    """Server-side sessions by the hash of their cookie token."""

    async def add(self, session: Session) -> None:
        """Store a new session."""

    async def get(self, session_id: str) -> Session | None:
        """The session, if it exists (expiry is the caller's check)."""

    async def remove(self, session_id: str) -> None:
        """End one session (logout)."""

    async def remove_user(self, user_key: str) -> int:
        """End every session of a user (account deletion)."""

    async def sweep(self, *, now: float) -> int:
        """Delete expired sessions."""


class UserStore(Protocol):
    """Which user keys exist (a user is created at first login)."""

    async def add(self, user_key: str, *, created_at: float) -> None:
        """Record a new user key."""

    async def exists(self, user_key: str) -> bool:
        """Whether the user still exists."""

    async def remove(self, user_key: str) -> None:
        """Forget the user key."""
