"""The wire events of the app registry, built from the domain's `App` (never its secret)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from auth.domain.apps import App
from shared.events.auth import AppRegistered, AppTermsUpdated, AppUpdated


def registered(app: App) -> AppRegistered:
    """`auth.app_registered.v1` for a new app."""
    return AppRegistered(
        app_id=app.client_id,
        name=app.name,
        redirect_uris=app.redirect_uris,
        allowed_scopes=app.allowed_scopes,
        terms_version=app.terms.version,
        terms_url=app.terms.url,
        recipients=app.terms.recipients,
        retention_days=app.terms.retention_days,
        client_type=app.client_type,
        privacy_policy_url=app.privacy_policy_url,
        deletion_webhook_url=app.deletion_webhook_url,
        developer_name=app.developer_name,
    )


def terms_updated(app: App, *, previous: App, version: int) -> AppTermsUpdated:
    """`auth.app_terms_updated.v1`: consents under `previous.terms` stop covering transfers."""
    return AppTermsUpdated(
        app_id=app.client_id,
        terms_version=app.terms.version,
        previous_terms_version=previous.terms.version,
        terms_url=app.terms.url,
        recipients=app.terms.recipients,
        retention_days=app.terms.retention_days,
        version=version,
    )


def updated(app: App, *, changed: Sequence[str], version: int) -> AppUpdated:
    """`auth.app_updated.v1`: which fields changed and the app's whole new public state."""
    fields: Any = tuple(changed)
    return AppUpdated(
        app_id=app.client_id,
        version=version,
        changed=cast(Any, fields),
        name=app.name,
        developer_name=app.developer_name,
        client_type=app.client_type,
        redirect_uris=app.redirect_uris,
        allowed_scopes=app.allowed_scopes,
        terms_version=app.terms.version,
        terms_url=app.terms.url,
        recipients=app.terms.recipients,
        retention_days=app.terms.retention_days,
        privacy_policy_url=app.privacy_policy_url,
        deletion_webhook_url=app.deletion_webhook_url,
    )
