"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

from dataclasses import dataclass

from consent.adapters.mongo_deletions import MongoDeletions
from consent.adapters.webhook_sender import HttpWebhookSender
from consent.config import ConsentSettings
from consent.service.deletion_dispatch import Dispatcher, RetryPolicy
from consent.service.deletion_ports import WebhookTarget, WebhookTargets
from consent.service.deletions import DeletionRequests
from consent.service.webhook_body import webhook_secret
from shared.events import consent
from shared.runtime import Runtime, declare_publications

PUBLISHES = (
    consent.ConsentGranted,
    consent.ConsentRevoked,
    consent.ConsentInvalidated,
    consent.ConsentRenewed,
    consent.DeletionRequested,
    consent.DeletionOutcomeRecorded,
)
SOURCE = "kits.consent"


@dataclass
class Container:
    """What the entry points of the consent service are handed."""

    settings: ConsentSettings
    runtime: Runtime
    deletions: DeletionRequests

    async def start(self) -> None:
        """Connect and start consuming, then the deletion dispatcher (an owned loop)."""
        await self.runtime.start()
        await self.deletions.start()

    async def stop(self) -> None:
        """Stop the dispatcher, then consuming, then the clients."""
        await self.deletions.stop()
        await self.runtime.stop()


class NoWebhookTargets:
    """Placeholder until core's app read model is wired in: no app has a webhook yet."""

    async def target(self, app_id: str) -> WebhookTarget | None:
        """None: every request would conclude `no_answer` at once."""
        del app_id
        return None


def bootstrap(settings: ConsentSettings | None = None) -> Container:
    """Build (without connecting) everything the consent service needs."""
    settings = settings or ConsentSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    deletions = build_deletions(settings=settings, runtime=runtime, targets=NoWebhookTargets())
    container = Container(settings=settings, runtime=runtime, deletions=deletions)
    return container


def build_deletions(
    *, settings: ConsentSettings, runtime: Runtime, targets: WebhookTargets
) -> DeletionRequests:
    """The deletion requests and their dispatcher, on the runtime's database and publisher."""
    key = settings.webhook_key.get_secret_value().encode()
    dispatcher = Dispatcher(
        store=MongoDeletions(runtime.db),
        targets=targets,
        sender=HttpWebhookSender(timeout_s=settings.deletion_timeout_s),
        publisher=runtime.publisher,
        secret_for=lambda app_id: webhook_secret(key=key, app_id=app_id),
        policy=RetryPolicy(
            budget_s=settings.deletion_retry_budget_s,
            base_s=settings.deletion_backoff_s,
            cap_s=settings.deletion_max_backoff_s,
            jitter=settings.deletion_jitter,
            lease_s=settings.deletion_claim_lease_s,
        ),
        source=SOURCE,
        development=settings.development,
        announce_grace_s=settings.publish_deadline_s * 2,
    )
    return DeletionRequests(
        store=dispatcher.store,
        dispatcher=dispatcher,
        webhook_key=key,
        budget_s=settings.deletion_retry_budget_s,
        poll_s=settings.deletion_poll_s,
        concurrency=settings.deletion_concurrency,
    )
