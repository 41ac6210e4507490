"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events import sound, transfer
from shared.runtime import Runtime, declare_publications
from sound.config import SoundSettings

PUBLISHES = (
    sound.SoundUploadStarted,
    sound.SoundIngested,
    sound.SoundRejected,
    transfer.TransferRecorded,
)


@dataclass
class Container:
    """What the entry points of the sound service are handed."""

    settings: SoundSettings
    runtime: Runtime

    async def start(self) -> None:
        """Connect and start consuming."""
        await self.runtime.start()

    async def stop(self) -> None:
        """Stop consuming and close the clients."""
        await self.runtime.stop()


def bootstrap(settings: SoundSettings | None = None) -> Container:
    """Build (without connecting) everything the sound service needs."""
    settings = settings or SoundSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    container = Container(settings=settings, runtime=runtime)
    return container
