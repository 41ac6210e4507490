"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

from dataclasses import dataclass

from consent.config import ConsentSettings
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


@dataclass
class Container:
    """What the entry points of the consent service are handed."""

    settings: ConsentSettings
    runtime: Runtime

    async def start(self) -> None:
        """Connect and start consuming."""
        await self.runtime.start()

    async def stop(self) -> None:
        """Stop consuming and close the clients."""
        await self.runtime.stop()


def bootstrap(settings: ConsentSettings | None = None) -> Container:
    """Build (without connecting) everything the consent service needs."""
    settings = settings or ConsentSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    container = Container(settings=settings, runtime=runtime)
    return container
