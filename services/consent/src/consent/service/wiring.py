"""Where the areas meet: the consent screen and the deletion requests on the core's records.

The screen speaks of apps as it shows them and of grants as it records them; deletions need an
app's webhook; the core keeps the app read model and the records. These small adapters keep
each area's ports its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from consent.domain.handover import Challenge, HandoverRefused
from consent.domain.model import ConsentError
from consent.service.consents import Consents
from consent.service.deletion_ports import WebhookTarget
from consent.service.ports import AppStore
from consent.service.receipts import Receipts
from consent.service.screen_ports import AppView, Granted


@dataclass(frozen=True)
class ScreenApps:
    """The screen's view of the apps read model."""

    apps: AppStore

    async def app(self, app_id: str) -> AppView | None:
        """The app as its latest registration, update or terms event declared it."""
        app = await self.apps.get(app_id)
        if app is None:
            return None
        return AppView(
            app_id=app.app_id,
            name=app.name,
            allowed_scopes=app.allowed_scopes,
            terms_version=app.terms.version,
            terms_url=app.terms_url,
            privacy_policy_url="",
            recipients=app.terms.recipients,
            retention_days=app.terms.retention_days,
        )


@dataclass(frozen=True)
class ScreenGrants:
    """An allow on the screen is a grant of the core, at the terms the page showed."""

    consents: Consents
    receipts: Receipts

    async def grant(self, *, challenge: Challenge, app: AppView) -> Granted:
        """Record the grant (new or renewed); the terms shown must still be current."""
        try:
            outcome = await self.consents.grant(
                user_key=challenge.user_key,
                app_id=challenge.app_id,
                scopes=challenge.scopes,
                purpose=challenge.purpose,
                pairwise_subject=challenge.pairwise_subject,
                terms_version=app.terms_version,
            )
        except ConsentError as exc:  # e.g. new terms arrived while the page was open
            raise HandoverRefused("changed", f"nothing was recorded: {exc}") from exc
        if outcome.consent is None:
            raise HandoverRefused("malformed", "the consent could not be recorded")
        consent = outcome.consent
        return Granted(
            consent_id=consent.consent_id,
            version=consent.version,
            terms_version=consent.terms.version,
            granted_at=consent.changed_at.timestamp(),
            receipt=await self.receipts.of(consent),
        )


@dataclass(frozen=True)
class ReadModelTargets:
    """Deletions' targets: the webhook URL the app's latest declaration names."""

    apps: AppStore

    async def target(self, app_id: str) -> WebhookTarget | None:
        """The app's deletion webhook, or None when it declared none."""
        app = await self.apps.get(app_id)
        if app is None or not app.deletion_webhook_url:
            return None
        return WebhookTarget(url=app.deletion_webhook_url)


class NoChallengeSigner:
    """A deployment that trusts no signer of consent challenges refuses every one."""

    async def read(self, token: str) -> Challenge:
        """Always refused."""
        del token
        raise HandoverRefused("forged", "this deployment trusts no signer of consent requests")
