"""Events published by the consent service on `consent.events` (key: the user key)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared.events.common import (
    Identifier,
    Recipient,
    RetentionDays,
    Scopes,
    TermsVersion,
    Timestamp,
)
from shared.events.envelope import EventData
from shared.topics import CONSENT_EVENTS


class _ConsentEvent(EventData):
    TOPIC: ClassVar[str] = CONSENT_EVENTS
    user_key: Identifier
    app_id: Identifier

    def subject(self) -> str:
        return self.user_key


class _ConsentVersionEvent(_ConsentEvent):
    consent_id: Identifier
    version: int = Field(ge=1)


class ConsentGranted(_ConsentVersionEvent):
    """A user granted an app these scopes under these terms, recipients and retention."""

    TYPE: ClassVar[str] = "consent.granted.v1"
    scopes: Scopes
    terms_version: TermsVersion
    recipients: tuple[Recipient, ...] = ()
    retention_days: RetentionDays
    # Additive (issue 16): the purpose shown to the user, and the app-facing id (OIDC pairwise
    # subject) auth computed for this user and app, so a deletion request never needs the key.
    purpose: str | None = Field(default=None, max_length=500)
    pairwise_subject: Identifier | None = None


class ConsentRevoked(_ConsentVersionEvent):
    """A user withdrew a consent; nothing may flow under it from now on."""

    TYPE: ClassVar[str] = "consent.revoked.v1"
    reason: Literal["user", "user_deleted", "app_removed"] = "user"


class ConsentInvalidated(_ConsentVersionEvent):
    """An app changed its terms, so a consent given under the old terms no longer covers it."""

    TYPE: ClassVar[str] = "consent.invalidated.v1"
    terms_version: TermsVersion
    new_terms_version: TermsVersion


class ConsentRenewed(_ConsentVersionEvent):
    """A user consented again (new terms or scopes); this version replaces the earlier one."""

    TYPE: ClassVar[str] = "consent.renewed.v1"
    scopes: Scopes
    terms_version: TermsVersion
    recipients: tuple[Recipient, ...] = ()
    retention_days: RetentionDays
    # Additive (issue 16): the purpose shown to the user, and the app-facing id (OIDC pairwise
    # subject) auth computed for this user and app, so a deletion request never needs the key.
    purpose: str | None = Field(default=None, max_length=500)
    pairwise_subject: Identifier | None = None


class DeletionRequested(_ConsentEvent):
    """The platform asked an app to delete what it holds about a user."""

    TYPE: ClassVar[str] = "consent.deletion_requested.v1"
    request_id: Identifier
    consent_id: Identifier
    pairwise_subject: Identifier
    deadline: Timestamp


class DeletionOutcomeRecorded(_ConsentEvent):
    """What the app answered to a deletion request (or that it did not answer in time)."""

    TYPE: ClassVar[str] = "consent.deletion_outcome_recorded.v1"
    request_id: Identifier
    outcome: Literal["confirmed", "refused", "no_answer"]
    detail: str = Field(default="", max_length=500)
