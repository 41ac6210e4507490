"""One handler per use case, each taking a command named in the imperative."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from kits_example.domain.model import (
    RELEASED_FIELDS,
    NoSuchProfile,
    Profile,
    Revocation,
    check_release,
    release,
)
from kits_example.service.ports import EventPublisher, ProfileStore, RevokedConsents
from shared.events import make_event
from shared.events.transfer import TransferRecorded


@dataclass(frozen=True, slots=True)
class SaveProfile:
    """Create or replace a user's profile."""

    user_key: str
    username: str


@dataclass(frozen=True, slots=True)
class RecordRevocation:
    """Note that a consent was revoked (from a `consent.revoked.v1` event)."""

    event_id: str
    consent_id: str
    version: int
    user_key: str
    app_id: str
    revoked_at: datetime


@dataclass(frozen=True, slots=True)
class ReleaseProfile:
    """Release a user's profile to an app under a consent (in a real service, what the
    verified access token says: app, pairwise subject, consent and scopes)."""

    user_key: str
    app_id: str
    pairwise_subject: str
    consent_id: str
    consent_version: int
    terms_version: str
    scopes: tuple[str, ...]
    purpose: str
    request_id: str


@dataclass(frozen=True, slots=True)
class ProfileReleased:
    """What the app receives (the exact bytes) and the transfer record that names them."""

    transfer_id: str
    event_id: str
    body: bytes


@dataclass(frozen=True)
class Handlers:
    """The use cases, with the ports they need (built once, in bootstrap)."""

    profiles: ProfileStore
    revoked: RevokedConsents
    publisher: EventPublisher
    source: str

    async def save_profile(self, cmd: SaveProfile) -> None:
        """Store the profile."""
        await self.profiles.save(Profile(user_key=cmd.user_key, username=cmd.username))

    async def record_revocation(self, cmd: RecordRevocation) -> bool:
        """Add the revocation to the read model; False for one already there (a redelivery)."""
        return await self.revoked.add(
            Revocation(
                consent_id=cmd.consent_id,
                version=cmd.version,
                user_key=cmd.user_key,
                app_id=cmd.app_id,
                event_id=cmd.event_id,
                revoked_at=cmd.revoked_at,
            )
        )

    async def release_profile(self, cmd: ReleaseProfile) -> ProfileReleased:
        """Record first, else nothing: the transfer record is durable before the bytes leave."""
        # Raises NoSuchProfile, ReleaseRefused (a revoked consent), or PublishFailed: the record
        # is not durable, so the caller must release nothing (HTTP: 503).
        profile = await self.profiles.get(cmd.user_key)
        if profile is None:
            raise NoSuchProfile(f"no profile for user {cmd.user_key}")
        check_release(consent_id=cmd.consent_id, revocation=await self.revoked.get(cmd.consent_id))
        released = release(profile, pairwise_subject=cmd.pairwise_subject)
        event = make_event(_transfer(cmd, digest_sha256=released.digest_sha256), source=self.source)
        await self.publisher.publish(event)
        return ProfileReleased(
            transfer_id=event.data.transfer_id, event_id=event.id, body=released.body
        )


def _transfer(cmd: ReleaseProfile, *, digest_sha256: str) -> TransferRecorded:
    """The wire record of this release (the shared contract `transfer.recorded.v1`)."""
    return TransferRecorded(
        transfer_id=f"tr_{uuid.uuid4().hex}",
        app_id=cmd.app_id,
        pairwise_subject=cmd.pairwise_subject,
        user_key=cmd.user_key,
        consent_id=cmd.consent_id,
        consent_version=cmd.consent_version,
        terms_version=cmd.terms_version,
        scopes_used=cmd.scopes,
        fields_released=RELEASED_FIELDS,
        purpose=cmd.purpose,
        request_id=cmd.request_id,
        released_at=datetime.now(UTC),
        digest_sha256=digest_sha256,
    )
