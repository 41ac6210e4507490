"""What the consent handlers need from the outside; the Mongo/Kafka adapters and fakes fit these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from consent.domain.apps import App
from consent.domain.model import Consent


class VersionConflict(Exception):
    """Another writer wrote the same consent version first: read again and reapply."""


@dataclass(frozen=True, slots=True)
class Stored:
    """One stored version, with the event that announces it and whether that is durable."""

    consent: Consent
    event: bytes
    published: bool


class ConsentStore(Protocol):
    """Versions written once each (`consent_id#version`), and a head per (user, app)."""

    async def head(self, *, user_key: str, app_id: str) -> Consent | None:
        """The pair's head: a copy of a recent version (it may lag; read forward from it)."""

    async def get(self, consent_id: str, version: int) -> Stored | None:
        """One version by its key (a read by `_id`)."""

    async def insert(self, consent: Consent, *, event: bytes) -> None:
        """Write a new version, not yet published; VersionConflict if it exists."""

    async def settle(self, consent: Consent) -> None:
        """Its event is durable: mark the version published and make it the pair's head."""

    async def heads_of_user(self, user_key: str) -> list[Consent]:
        """Every pair head of one user (a filtered read: the user view, deletion)."""

    async def heads_of_app(self, app_id: str) -> list[Consent]:
        """Every pair head of one app (a filtered read: terms changes, rare)."""


class AppStore(Protocol):
    """The apps read model, one document per app (one writer: the auth-events consumer)."""

    async def get(self, app_id: str) -> App | None:
        """The app, or None if no registration was seen."""

    async def save(self, app: App) -> None:
        """Replace the app's document."""


class ConsentEvents(Protocol):
    """Durable publish of a consent event's exact bytes, keyed by the user key."""

    async def publish(self, *, key: str, value: bytes) -> None:
        """Return once the broker acknowledged it, or raise `PublishFailed` in time."""


class DeletionRequester(Protocol):
    """Asks an app to delete what it holds about a user (built by the deletions area)."""

    async def request(
        self,
        *,
        app_id: str,
        user_key: str,
        consent_id: str,
        consent_version: int,
        pairwise_subject: str,
        reason: str,
    ) -> str:
        """Record the request durably and return its id; the same id again for the same
        (consent_id, consent_version): a redelivered revocation sends no second request."""
