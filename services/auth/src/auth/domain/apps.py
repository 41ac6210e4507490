"""A registered app and the changes its developer may make to it (pure rules, no storage)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from auth.domain.app_rules import (
    MAX_NAME_CHARS,
    MAX_TERMS_VERSION_CHARS,
    InvalidApp,
    check_recipients,
    check_redirect_uris,
    check_retention,
    check_scopes,
    check_text,
    check_url,
)

ClientType = Literal["confidential", "public"]
_CHANGEABLE = (
    "name",
    "redirect_uris",
    "allowed_scopes",
    "privacy_policy_url",
    "deletion_webhook_url",
)
MAX_TERMS_VERSIONS = 100  # a version label may never come back, so the app keeps the used ones


@dataclass(frozen=True, slots=True)
class Terms:
    """What a user consents to besides scopes: the terms, who receives the data, for how long."""

    url: str
    version: str
    recipients: tuple[str, ...]
    retention_days: int


@dataclass(frozen=True, slots=True)
class AppFields:
    """What a developer gives at registration."""

    name: str
    client_type: ClientType
    redirect_uris: tuple[str, ...]
    allowed_scopes: tuple[str, ...]
    terms: Terms
    privacy_policy_url: str
    deletion_webhook_url: str


@dataclass(frozen=True, slots=True)
class AppChanges:
    """A partial update (None keeps a field as it is); terms change only through `apply_terms`."""

    name: str | None = None
    redirect_uris: tuple[str, ...] | None = None
    allowed_scopes: tuple[str, ...] | None = None
    privacy_policy_url: str | None = None
    deletion_webhook_url: str | None = None


@dataclass(frozen=True, slots=True)
class App:
    """A registered app; `secret_sha256` is the only trace of a confidential client's secret."""

    client_id: str
    developer_id: str
    developer_name: str
    name: str
    client_type: ClientType
    redirect_uris: tuple[str, ...]
    allowed_scopes: tuple[str, ...]
    terms: Terms
    privacy_policy_url: str
    deletion_webhook_url: str
    secret_sha256: str | None
    earlier_terms_versions: tuple[str, ...]
    created_at: float
    updated_at: float

    @property
    def confidential(self) -> bool:
        """Whether the app authenticates with a client secret."""
        return self.client_type == "confidential"


def check_terms(terms: Terms, *, allow_http_loopback: bool) -> Terms:
    """The terms if each part keeps its rule, else InvalidApp."""
    check_url(
        terms.url, field="terms_url", allow_fragment=True, allow_http_loopback=allow_http_loopback
    )
    check_text(terms.version, field="terms_version", max_chars=MAX_TERMS_VERSION_CHARS)
    check_recipients(terms.recipients)
    check_retention(terms.retention_days)
    return terms


def new_app(
    fields: AppFields,
    *,
    client_id: str,
    developer_id: str,
    developer_name: str,
    secret_sha256: str | None,
    now: float,
    allow_http_loopback: bool,
) -> App:
    """A new app from what its developer gave, every rule checked (InvalidApp otherwise)."""
    if fields.client_type not in ("confidential", "public"):
        raise InvalidApp("client_type", "must be confidential or public")
    if (secret_sha256 is not None) != (fields.client_type == "confidential"):
        raise InvalidApp("client_type", "a confidential client has a secret, a public one none")
    app = App(
        client_id=client_id,
        developer_id=developer_id,
        developer_name=developer_name,
        name=fields.name,
        client_type=fields.client_type,
        redirect_uris=fields.redirect_uris,
        allowed_scopes=fields.allowed_scopes,
        terms=fields.terms,
        privacy_policy_url=fields.privacy_policy_url,
        deletion_webhook_url=fields.deletion_webhook_url,
        secret_sha256=secret_sha256,
        earlier_terms_versions=(),
        created_at=now,
        updated_at=now,
    )
    return _checked(app, allow_http_loopback=allow_http_loopback)


def _checked(app: App, *, allow_http_loopback: bool) -> App:
    check_text(app.name, field="name", max_chars=MAX_NAME_CHARS)
    check_redirect_uris(app.redirect_uris)
    check_scopes(app.allowed_scopes)
    check_terms(app.terms, allow_http_loopback=allow_http_loopback)
    check_url(
        app.privacy_policy_url,
        field="privacy_policy_url",
        allow_fragment=True,
        allow_http_loopback=allow_http_loopback,
    )
    check_url(
        app.deletion_webhook_url,
        field="deletion_webhook_url",
        allow_fragment=False,
        allow_http_loopback=allow_http_loopback,
    )
    return app


def apply_changes(
    app: App, changes: AppChanges, *, now: float, allow_http_loopback: bool
) -> tuple[App, tuple[str, ...]]:
    """The app with `changes` applied and checked, and the names of the fields that changed
    (none: the update is a no-op and publishes nothing)."""
    given = {name: value for name in _CHANGEABLE if (value := getattr(changes, name)) is not None}
    changed = tuple(name for name, value in given.items() if getattr(app, name) != value)
    if not changed:
        return app, ()
    updated = replace(app, updated_at=now, **{name: given[name] for name in changed})
    return _checked(updated, allow_http_loopback=allow_http_loopback), changed


def apply_terms(app: App, terms: Terms, *, now: float, allow_http_loopback: bool) -> App:
    """The app under new terms; a version label already used by this app is refused, so a
    consent given under old terms can never match again."""
    check_terms(terms, allow_http_loopback=allow_http_loopback)
    used = (*app.earlier_terms_versions, app.terms.version)
    if terms.version in used:
        raise InvalidApp("terms_version", "this app already used that version: give a new one")
    if len(used) >= MAX_TERMS_VERSIONS:
        raise InvalidApp("terms_version", f"an app may publish at most {MAX_TERMS_VERSIONS} terms")
    return replace(app, terms=terms, earlier_terms_versions=used, updated_at=now)


def with_secret(app: App, secret_sha256: str, *, now: float) -> App:
    """The confidential app with a new secret's hash (the old secret stops working)."""
    if not app.confidential:
        raise InvalidApp("client_type", "a public client has no secret to rotate")
    return replace(app, secret_sha256=secret_sha256, updated_at=now)
