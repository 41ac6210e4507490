"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

from dataclasses import dataclass

from consent.adapters.kafka_events import KafkaConsentEvents
from consent.adapters.mongo_apps import MongoApps
from consent.adapters.mongo_consents import MongoConsents, create_consent_indexes
from consent.adapters.unwired_deletions import UnwiredDeletionRequests
from consent.config import ConsentSettings
from consent.service.auth_events import AuthEventHandlers
from consent.service.checks import Checks
from consent.service.consents import Consents
from consent.service.ports import DeletionRequester
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

    async def start(self) -> None:
        """Indexes, topics, broker (its subscribers begin consuming)."""
        await create_consent_indexes(self.runtime.db, shards=self.settings.collection_shards)
        await self.runtime.start()

    async def stop(self) -> None:
        """Stop consuming and close the clients."""
        await self.runtime.stop()


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
    """Build (without connecting) everything the consent service needs."""
    settings = settings or ConsentSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    store = MongoConsents(runtime.db, shards=settings.collection_shards)
    apps = MongoApps(runtime.db)
    consents = Consents(
        store=store,
        apps=apps,
        events=KafkaConsentEvents(publisher=runtime.publisher, topic=settings.events_topic),
        deletions=deletions or UnwiredDeletionRequests(),
        source=SOURCE,
        in_flight_s=settings.in_flight_s,
    )
    return Container(
        settings=settings,
        runtime=runtime,
        apps=apps,
        consents=consents,
        checks=Checks(store=store, apps=apps),
        auth_events=AuthEventHandlers(apps=apps, consents=consents),
        user_tokens=UserTokenVerifier.from_settings(settings),
        service_tokens=service_verifier(settings),
    )
