"""What consent does with auth's events: the apps read model, terms changes, deleted users.

Idempotent by event id: the app document remembers the ids of the events it took in, so a
redelivery does not apply an old declaration twice; the invalidations and revocations are
idempotent by state (a consent already invalidated or revoked gets no second version), and
invalidation compares with the app's *current* terms, so even a late redelivery of an older
terms change invalidates nothing that was renewed since.
"""

from __future__ import annotations

from dataclasses import dataclass

from consent.domain.apps import App
from consent.domain.model import Terms
from consent.service.consents import Consents
from consent.service.ports import AppStore


@dataclass(frozen=True, slots=True)
class Declared:
    """An app's registration or update, as auth's event states it."""

    app_id: str
    name: str
    allowed_scopes: tuple[str, ...]
    terms: Terms
    terms_url: str
    deletion_webhook_url: str | None


@dataclass(frozen=True)
class AuthEventHandlers:
    """The use cases behind the auth-events subscription."""

    apps: AppStore
    consents: Consents

    async def app_declared(self, *, event_id: str, declared: Declared) -> None:
        """A registration (or update): the app's document now says what it declares."""
        known = await self.apps.get(declared.app_id)
        if known is not None and known.has_applied(event_id):
            return
        base = known or App(
            app_id=declared.app_id,
            name=declared.name,
            allowed_scopes=declared.allowed_scopes,
            terms=declared.terms,
            terms_url=declared.terms_url,
            deletion_webhook_url=declared.deletion_webhook_url,
        )
        app = base.after(
            event_id,
            name=declared.name,
            allowed_scopes=declared.allowed_scopes,
            terms=declared.terms,
            terms_url=declared.terms_url,
            deletion_webhook_url=declared.deletion_webhook_url,
        )
        await self.apps.save(app)
        if known is not None and known.terms.version != app.terms.version:
            await self.consents.invalidate_app(
                app_id=app.app_id, new_terms_version=app.terms.version
            )

    async def terms_updated(
        self, *, event_id: str, app_id: str, terms: Terms, terms_url: str
    ) -> int:
        """New terms: the app's document first (the check refuses at once), then every active
        consent under other terms is invalidated; how many were."""
        known = await self.apps.get(app_id)
        if known is not None and not known.has_applied(event_id):
            await self.apps.save(known.after(event_id, terms=terms, terms_url=terms_url))
        current = await self.apps.get(app_id)
        version = current.terms.version if current else terms.version
        return await self.consents.invalidate_app(app_id=app_id, new_terms_version=version)

    async def user_deleted(self, *, user_key: str) -> int:
        """An account was deleted: every consent of the user is revoked; how many were live."""
        return len(await self.consents.revoke_all(user_key=user_key, reason="user_deleted"))
