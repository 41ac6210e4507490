"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from consent.adapters.jose_handover import (
    CHALLENGE_AUDIENCE,
    CHALLENGE_TYP,
    ChallengeReader,
    ConsentSigner,
)
from consent.adapters.kafka_events import KafkaConsentEvents
from consent.adapters.mongo_answered import MongoAnsweredChallenges
from consent.adapters.mongo_apps import MongoApps
from consent.adapters.mongo_consents import MongoConsents, create_consent_indexes
from consent.adapters.mongo_deletions import MongoDeletions
from consent.adapters.webhook_sender import HttpWebhookSender
from consent.config import ConsentSettings
from consent.service.auth_events import AuthEventHandlers
from consent.service.checks import Checks
from consent.service.consents import Consents
from consent.service.deletion_dispatch import Dispatcher, RetryPolicy
from consent.service.deletion_ports import WebhookTargets
from consent.service.deletions import DeletionRequests
from consent.service.fresh_apps import FreshApps
from consent.service.ports import DeletionRequester
from consent.service.receipts import Receipts
from consent.service.screen import ConsentScreen
from consent.service.screen_ports import ChallengeSource
from consent.service.webhook_body import webhook_secret
from consent.service.wiring import NoChallengeSigner, ReadModelTargets, ScreenApps, ScreenGrants
from shared.events import consent
from shared.jwks import JwksKeys
from shared.runtime import Runtime, declare_publications
from shared.service_tokens import ServiceTokenVerifier
from shared.user_tokens import UserTokenVerifier

PUBLISHES = (
    consent.ConsentGranted,
    consent.ConsentRevoked,
    consent.ConsentInvalidated,
    consent.ConsentRenewed,
    consent.DeletionRequested,
    consent.DeletionOutcomeRecorded,
)
SOURCE = "kits.consent"
SWEEP_S = 60.0
log = logging.getLogger(__name__)


@dataclass
class Container:
    """What the entry points of the consent service are handed."""

    settings: ConsentSettings
    runtime: Runtime
    apps: MongoApps
    consents: Consents
    checks: Checks
    auth_events: AuthEventHandlers
    user_tokens: UserTokenVerifier | None
    service_tokens: ServiceTokenVerifier
    deletions: DeletionRequests
    screen: ConsentScreen
    signer: ConsentSigner
    answered: MongoAnsweredChallenges
    receipts: Receipts
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Indexes, topics, broker (its subscribers begin consuming), then the loops."""
        await create_consent_indexes(self.runtime.db, shards=self.settings.collection_shards)
        await self.runtime.start()
        await self.deletions.start()
        self.tasks = [asyncio.create_task(self._sweep(), name="answered-sweep")]

    async def stop(self) -> None:
        """Stop the loops, then consuming, then the clients."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []
        await self.deletions.stop()
        await self.runtime.stop()

    async def _sweep(self) -> None:
        while True:  # expiry in code (no TTL on FerretDB)
            try:
                await self.answered.sweep(now=time.time())
            except Exception:
                log.warning("answered-challenge sweep failed", exc_info=True)
            await asyncio.sleep(SWEEP_S)


def service_verifier(settings: ConsentSettings) -> ServiceTokenVerifier:
    """The verifier of the callers' service tokens, one key cache per configured caller."""
    development = settings.environment == "development"
    callers = {
        name: JwksKeys(jwks=keys.jwks, jwks_url=keys.jwks_url, development=development)
        for name, keys in settings.service_callers.items()
    }
    return ServiceTokenVerifier(audience=settings.service_token_audience, callers=callers)


def bootstrap(
    settings: ConsentSettings | None = None, *, deletions: DeletionRequester | None = None
) -> Container:
    """Build (without connecting) everything the consent service needs (`deletions`: a test's
    stand-in for the deletion requests the revocations make)."""
    settings = settings or ConsentSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    store = MongoConsents(runtime.db, shards=settings.collection_shards)
    apps = MongoApps(runtime.db)
    requests = build_deletions(settings=settings, runtime=runtime, targets=ReadModelTargets(apps))
    consents = Consents(
        store=store,
        apps=apps,
        events=KafkaConsentEvents(publisher=runtime.publisher, topic=settings.events_topic),
        deletions=deletions or requests,
        source=SOURCE,
        in_flight_s=settings.in_flight_s,
    )
    signer = ConsentSigner(seeds=settings.signing_keys.get_secret_value(), issuer=settings.issuer)
    answered = MongoAnsweredChallenges(runtime.db)
    receipts = Receipts(apps=apps, signer=signer, jurisdiction=settings.jurisdiction)
    fresh = FreshApps(apps, fresh_s=settings.app_fresh_s)
    return Container(
        settings=settings,
        runtime=runtime,
        apps=apps,
        consents=consents,
        checks=Checks(store=store, apps=fresh),
        auth_events=AuthEventHandlers(apps=fresh.writer(), consents=consents),
        user_tokens=UserTokenVerifier.from_settings(settings),
        service_tokens=service_verifier(settings),
        deletions=requests,
        screen=ConsentScreen(
            challenges=_challenges(settings),
            apps=ScreenApps(apps),
            grants=ScreenGrants(consents, receipts),
            answered=answered,
            signer=signer,
            allowed_returns=settings.callback_urls,
            jurisdiction=settings.jurisdiction,
        ),
        signer=signer,
        answered=answered,
        receipts=receipts,
    )


def _challenges(settings: ConsentSettings) -> ChallengeSource:
    """Auth's challenges are verified with auth's user-token keys (another `typ`, audience)."""
    if not settings.user_tokens_configured:
        return NoChallengeSigner()
    return ChallengeReader(
        UserTokenVerifier(
            issuer=settings.user_token_issuer,
            audience=CHALLENGE_AUDIENCE,
            jwks=settings.user_token_jwks,
            jwks_url=settings.user_token_jwks_url,
            development=settings.environment == "development",
            refresh_s=settings.user_token_jwks_refresh_s,
            min_refetch_s=settings.user_token_jwks_min_refetch_s,
            typ=CHALLENGE_TYP,
            required=("jti", "iat"),
        )
    )


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
