"""Events published by the auth service (Login Kit) on `auth.events`."""

from __future__ import annotations

from typing import ClassVar, Literal

from shared.events.common import (
    Identifier,
    Recipient,
    RetentionDays,
    Scopes,
    TermsVersion,
    Timestamp,
    Url,
)
from shared.events.envelope import EventData
from shared.topics import AUTH_EVENTS


class _AppEvent(EventData):
    TOPIC: ClassVar[str] = AUTH_EVENTS
    app_id: Identifier

    def subject(self) -> str:
        return self.app_id


class _UserEvent(EventData):
    TOPIC: ClassVar[str] = AUTH_EVENTS
    user_key: Identifier

    def subject(self) -> str:
        return self.user_key


class AppRegistered(_AppEvent):
    """A third-party app was registered with its terms, recipients and retention."""

    TYPE: ClassVar[str] = "auth.app_registered.v1"
    name: str
    redirect_uris: tuple[Url, ...]
    allowed_scopes: Scopes
    terms_version: TermsVersion
    terms_url: Url
    recipients: tuple[Recipient, ...] = ()
    retention_days: RetentionDays


class AppTermsUpdated(_AppEvent):
    """An app published new terms; consents given under older terms stop covering transfers."""

    TYPE: ClassVar[str] = "auth.app_terms_updated.v1"
    terms_version: TermsVersion
    previous_terms_version: TermsVersion
    terms_url: Url
    recipients: tuple[Recipient, ...] = ()
    retention_days: RetentionDays


class UserSignedUp(_UserEvent):
    """A new user key was derived (keyed hash of the phone number; the number is not here)."""

    TYPE: ClassVar[str] = "auth.user_signed_up.v1"
    hash_key_id: Identifier


class UserLoggedIn(_UserEvent):
    """A user proved possession of their phone with a one-time code."""

    TYPE: ClassVar[str] = "auth.user_logged_in.v1"
    method: Literal["phone_otp"] = "phone_otp"
    session_id: Identifier


class UserDeleted(_UserEvent):
    """A user deleted their account; every service forgets what it holds about them."""

    TYPE: ClassVar[str] = "auth.user_deleted.v1"


class TokenIssued(_UserEvent):
    """An access token was issued to an app for a user under a consent."""

    TYPE: ClassVar[str] = "auth.token_issued.v1"
    token_id: Identifier
    app_id: Identifier
    pairwise_subject: Identifier
    consent_id: Identifier
    scopes: Scopes
    grant_type: Literal["authorization_code", "refresh_token"]
    expires_at: Timestamp


class TokenRevoked(_UserEvent):
    """A token (and its refresh family) stopped being valid."""

    TYPE: ClassVar[str] = "auth.token_revoked.v1"
    token_id: Identifier
    app_id: Identifier
    reason: Literal["user", "app", "consent_revoked", "refresh_reuse", "user_deleted"]
