"""HTTP shapes of the app registry (`/v1/apps`, `/v1/scopes`).

The models bound every string and list and refuse unknown fields and wrong types (422); the
rules of what a value may be (https, loopback, fragments, the scope catalogue ...) are the
domain's and answer 400 with the field and the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from auth.domain.apps import App, AppChanges, AppFields, Terms
from shared.phone import looks_like_phone


def _no_phone(value: str) -> str:
    # Names, recipients and terms labels go into events kept forever: no phone number, not
    # even a company's.
    if looks_like_phone(value):
        raise ValueError("looks like a phone number; names, recipients and terms versions must not")
    return value


Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_phone)]
Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_phone)]
UrlIn = Annotated[str, Field(min_length=1, max_length=2000)]
ScopeName = Annotated[str, Field(min_length=1, max_length=64)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TermsIn(_In):
    """Terms an app publishes: a new version label each time (never one used before)."""

    terms_url: UrlIn
    # A label such as `2026-02` (a bare run of 7+ digits reads as a phone number: refused).
    terms_version: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_no_phone)]
    recipients: Annotated[list[Text], Field(max_length=20)] = []
    retention_days: Annotated[int, Field(ge=0, le=36_500)]

    def terms(self) -> Terms:
        """The domain's terms."""
        return Terms(
            url=self.terms_url,
            version=self.terms_version,
            recipients=tuple(self.recipients),
            retention_days=self.retention_days,
        )


class AppCreate(_In):
    """A registration: everything the consent screen and the OAuth server need."""

    name: Name
    client_type: Literal["confidential", "public"]
    redirect_uris: Annotated[list[UrlIn], Field(min_length=1, max_length=10)]
    allowed_scopes: Annotated[list[ScopeName], Field(min_length=1, max_length=20)]
    terms: TermsIn
    privacy_policy_url: UrlIn
    deletion_webhook_url: UrlIn

    def fields(self) -> AppFields:
        """The domain's registration."""
        return AppFields(
            name=self.name,
            client_type=self.client_type,
            redirect_uris=tuple(self.redirect_uris),
            allowed_scopes=tuple(self.allowed_scopes),
            terms=self.terms.terms(),
            privacy_policy_url=self.privacy_policy_url,
            deletion_webhook_url=self.deletion_webhook_url,
        )


class AppUpdate(_In):
    """A partial change; terms, recipients and retention change only with new terms."""

    name: Name | None = None
    redirect_uris: Annotated[list[UrlIn], Field(min_length=1, max_length=10)] | None = None
    allowed_scopes: Annotated[list[ScopeName], Field(min_length=1, max_length=20)] | None = None
    privacy_policy_url: UrlIn | None = None
    deletion_webhook_url: UrlIn | None = None

    def changes(self) -> AppChanges:
        """The domain's change."""
        return AppChanges(
            name=self.name,
            redirect_uris=tuple(self.redirect_uris) if self.redirect_uris is not None else None,
            allowed_scopes=tuple(self.allowed_scopes) if self.allowed_scopes is not None else None,
            privacy_policy_url=self.privacy_policy_url,
            deletion_webhook_url=self.deletion_webhook_url,
        )


class TermsPublic(BaseModel):
    """The app's current terms."""

    terms_url: str
    terms_version: str
    recipients: list[str]
    retention_days: int


class AppPublic(BaseModel):
    """A registered app as its developer sees it (never its secret or the secret's hash)."""

    client_id: str
    name: str
    developer_name: str
    client_type: Literal["confidential", "public"]
    redirect_uris: list[str]
    allowed_scopes: list[str]
    terms: TermsPublic
    privacy_policy_url: str
    deletion_webhook_url: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, app: App) -> AppPublic:
        """The public view of a domain app."""
        return cls(
            client_id=app.client_id,
            name=app.name,
            developer_name=app.developer_name,
            client_type=app.client_type,
            redirect_uris=list(app.redirect_uris),
            allowed_scopes=list(app.allowed_scopes),
            terms=TermsPublic(
                terms_url=app.terms.url,
                terms_version=app.terms.version,
                recipients=list(app.terms.recipients),
                retention_days=app.terms.retention_days,
            ),
            privacy_policy_url=app.privacy_policy_url,
            deletion_webhook_url=app.deletion_webhook_url,
            created_at=datetime.fromtimestamp(app.created_at, UTC),
            updated_at=datetime.fromtimestamp(app.updated_at, UTC),
        )


class AppCreated(BaseModel):
    """A new app; `client_secret` (confidential clients only) is shown this once."""

    app: AppPublic
    client_secret: str | None


class AppList(BaseModel):
    """The calling developer's apps, oldest first."""

    apps: list[AppPublic]


class SecretRotated(BaseModel):
    """A confidential app's new client secret, shown this once (the old one no longer works)."""

    client_id: str
    client_secret: str


class ScopePublic(BaseModel):
    """One scope of the catalogue and the words the consent screen shows for it."""

    name: str
    description: str


class ScopeList(BaseModel):
    """The scope catalogue."""

    scopes: list[ScopePublic]
