"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events import sound, transfer
from shared.runtime import Runtime, declare_publications
from sound.config import SoundSettings
from sound.entrypoints import consumers

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


def bootstrap(settings: SoundSettings | None = None) -> Container:
    """Build (without connecting) everything the sound service needs."""
    settings = settings or SoundSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    container = Container(settings=settings, runtime=runtime)
    consumers.register(container)
    return container
