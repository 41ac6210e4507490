"""Events published by the auth service (Login Kit) on `auth.events`."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

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

ClientType = Literal["confidential", "public"]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]
AppVersion = Annotated[int, Field(ge=1)]
AppField = Literal[
    "name",
    "redirect_uris",
    "allowed_scopes",
    "privacy_policy_url",
    "deletion_webhook_url",
    "client_secret",
]


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
    # Added for the consent screen and the deletion requests (optional: older events lack them).
    client_type: ClientType | None = None
    privacy_policy_url: Url | None = None
    deletion_webhook_url: Url | None = None
    developer_name: DisplayName | None = None


class AppTermsUpdated(_AppEvent):
    """An app published new terms; consents given under older terms stop covering transfers."""

    TYPE: ClassVar[str] = "auth.app_terms_updated.v1"
    terms_version: TermsVersion
    previous_terms_version: TermsVersion
    terms_url: Url
    recipients: tuple[Recipient, ...] = ()
    retention_days: RetentionDays
    version: AppVersion | None = None  # the app's registration version this change wrote


class AppUpdated(_AppEvent):
    """An app's registration changed other than by new terms (name, redirect URIs, scopes,
    URLs, client secret); carries the app's full new public state, never a secret or its hash."""

    TYPE: ClassVar[str] = "auth.app_updated.v1"
    version: AppVersion
    changed: tuple[AppField, ...] = Field(min_length=1, max_length=20)
    name: DisplayName
    developer_name: DisplayName | None = None
    client_type: ClientType
    redirect_uris: tuple[Url, ...]
    allowed_scopes: Scopes
    terms_version: TermsVersion
    terms_url: Url
    recipients: tuple[Recipient, ...] = ()
    retention_days: RetentionDays
    privacy_policy_url: Url | None = None
    deletion_webhook_url: Url | None = None


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
    # Added (optional, additive): the family was ended by a second redemption of the
    # authorization code that issued it (RFC 9700 4.2.4); `reason` is then `refresh_reuse`,
    # the nearest value v1's consumers know.
    code_reuse: bool = False
