"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

from dataclasses import dataclass

from kits_example.adapters.mongo_consents import MongoRevokedConsents
from kits_example.adapters.mongo_profiles import MongoProfileStore
from kits_example.config import ExampleSettings
from kits_example.service.handlers import Handlers
from shared.events.transfer import TransferRecorded
from shared.runtime import Runtime, declare_publications

PUBLISHES = (TransferRecorded,)


@dataclass
class Container:
    """What the entry points of the example are handed."""

    settings: ExampleSettings
    runtime: Runtime
    handlers: Handlers

    async def start(self) -> None:
        """Create topics (the group's dead-letter topic too), connect, start consuming."""
        await self.runtime.start()

    async def stop(self) -> None:
        """Stop consuming and close the clients."""
        await self.runtime.stop()


def bootstrap(settings: ExampleSettings | None = None) -> Container:
    """Build (without connecting) everything the example needs."""
    settings = settings or ExampleSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    handlers = Handlers(
        profiles=MongoProfileStore(runtime.db),
        revoked=MongoRevokedConsents(runtime.db),
        publisher=runtime.publisher,
        source=settings.event_source,
    )
    return Container(settings=settings, runtime=runtime, handlers=handlers)
