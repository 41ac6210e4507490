"""What the handlers need from the outside: the Mongo adapters and the tests' fakes fit these."""

from __future__ import annotations

from typing import Any, Protocol

from kits_example.domain.model import Profile, Revocation
from shared.events import CloudEvent


class ProfileStore(Protocol):
    """The profiles this service owns, by user key."""

    async def save(self, profile: Profile) -> None:
        """Create or replace the user's profile (one writer per user: the user)."""

    async def get(self, user_key: str) -> Profile | None:
        """The user's profile, if there is one."""


class RevokedConsents(Protocol):
    """A read model of `consent.revoked.v1`, kept by this service's own consumer."""

    async def add(self, revocation: Revocation) -> bool:
        """Record a revocation once per consent id; False when it was already there."""

    async def get(self, consent_id: str) -> Revocation | None:
        """The revocation of this consent, if it was revoked."""


class EventPublisher(Protocol):
    """Durable publish: the shared `DurablePublisher`, or a test's fake."""

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> Any:
        """Return once the broker acknowledged the event, or raise `PublishFailed` in time."""
