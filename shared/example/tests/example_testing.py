"""Fakes of the example's own ports (never of Kafka or Mongo) and commands with fresh ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kits_example.config import ExampleSettings
from kits_example.domain.model import Profile, Revocation
from kits_example.service.handlers import RecordRevocation, ReleaseProfile
from kits_testing import Servers
from shared.events import CloudEvent
from shared.kafka.publisher import PublishFailed


@dataclass
class FakeProfileStore:
    """`ProfileStore` in a dict."""

    profiles: dict[str, Profile] = field(default_factory=dict)

    async def save(self, profile: Profile) -> None:
        self.profiles[profile.user_key] = profile

    async def get(self, user_key: str) -> Profile | None:
        return self.profiles.get(user_key)


@dataclass
class FakeRevokedConsents:
    """`RevokedConsents` in a dict; the first revocation of a consent id wins, as in Mongo."""

    revocations: dict[str, Revocation] = field(default_factory=dict)

    async def add(self, revocation: Revocation) -> bool:
        if revocation.consent_id in self.revocations:
            return False
        self.revocations[revocation.consent_id] = revocation
        return True

    async def get(self, consent_id: str) -> Revocation | None:
        return self.revocations.get(consent_id)


@dataclass
class FakePublisher:
    """`EventPublisher` that keeps what it was given, or fails as a broker away would."""

    published: list[CloudEvent[Any]] = field(default_factory=list)
    failing: bool = False

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> Any:
        if self.failing:
            raise PublishFailed("broker did not acknowledge within 0.1s")
        self.published.append(event)
        return None


def release_of(user_key: str, *, consent_id: str) -> ReleaseProfile:
    """A release request as an app's access token would justify it."""
    return ReleaseProfile(
        user_key=user_key,
        app_id="app_example",
        pairwise_subject=f"pw_{uuid.uuid4().hex[:12]}",
        consent_id=consent_id,
        consent_version=1,
        terms_version="2026-01",
        scopes=("user.info.basic",),
        purpose="show the user's name in the app",
        request_id=f"req_{uuid.uuid4().hex[:12]}",
    )


def revocation_of(user_key: str, *, consent_id: str) -> RecordRevocation:
    """What `on_consent_revoked` makes of a `consent.revoked.v1` event."""
    return RecordRevocation(
        event_id=str(uuid.uuid4()),
        consent_id=consent_id,
        version=2,
        user_key=user_key,
        app_id="app_example",
        revoked_at=datetime.now(UTC),
    )


def new_key(prefix: str) -> str:
    """A fresh internal key (user key, consent id): tests never share one."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def example_settings(servers: Servers, **overrides: Any) -> ExampleSettings:
    """Settings for one test: its own database and consumer group on the real servers."""
    values: dict[str, Any] = {
        "environment": "development",
        "kafka_bootstrap_servers": servers.kafka,
        "mongodb_url": servers.mongodb_url,
        "mongodb_database": f"t_example_{uuid.uuid4().hex[:10]}",
        "consents_group": f"t-example-consents-{uuid.uuid4().hex[:10]}",
        "publish_deadline_s": 10.0,
        **overrides,
    }
    return ExampleSettings(**values)
