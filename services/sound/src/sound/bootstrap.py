"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from shared.events import sound, transfer
from shared.runtime import Runtime, declare_publications
from sound.adapters.http_platform import HttpConsentCheck, HttpTokenResolver
from sound.adapters.jose_service_tokens import ServiceTokenSigner
from sound.adapters.kafka_topics import RoutedPublisher
from sound.adapters.mongo_storage import MongoSoundStore
from sound.adapters.soundfile_audio import SoundfileValidator
from sound.config import SoundSettings
from sound.domain.uploads import Limits
from sound.service.ports import AudioLimits, ConsentCheck, TokenResolver
from sound.service.sharing import Sharing
from sound.service.uploads import Uploads

PUBLISHES = (
    sound.SoundUploadStarted,
    sound.SoundIngested,
    sound.SoundRejected,
    transfer.TransferRecorded,
)
log = logging.getLogger(__name__)


@dataclass
class Container:
    """What the entry points of the sound service are handed."""

    settings: SoundSettings
    runtime: Runtime
    signer: ServiceTokenSigner
    store: MongoSoundStore
    validator: SoundfileValidator
    uploads: Uploads
    sharing: Sharing
    _sweeper: asyncio.Task[None] | None = field(default=None)

    async def start(self) -> None:
        """Connect, prepare the indexes, start consuming and sweeping."""
        await self.runtime.start()
        await self.store.prepare()
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self) -> None:
        """Stop sweeping and validating, stop consuming and close the clients."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.uploads.drain()
        self.validator.close()
        for port in (self.uploads.tokens, self.uploads.consent):
            aclose = getattr(port, "aclose", None)
            if aclose is not None:
                await aclose()
        await self.runtime.stop()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval_s)
            try:
                await self.uploads.sweep()
            except Exception:
                log.exception("upload sweep failed; next round retries")


def bootstrap(
    settings: SoundSettings | None = None,
    *,
    tokens: TokenResolver | None = None,
    consent: ConsentCheck | None = None,
) -> Container:
    """Build (without connecting) everything the sound service needs; `tokens` and `consent`
    replace the HTTP ports (tests)."""
    settings = settings or SoundSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    signer = ServiceTokenSigner(seeds=settings.service_token_keys.get_secret_value())
    store = MongoSoundStore(runtime.db)
    validator = SoundfileValidator(
        AudioLimits(
            max_duration_s=settings.max_duration_s,
            min_sample_rate=settings.min_sample_rate,
            max_sample_rate=settings.max_sample_rate,
            max_channels=settings.max_channels,
        ),
        workers=settings.validation_workers,
    )
    public = settings.public_url.rstrip("/")
    routes = {
        sound.SoundIngested.TOPIC: settings.events_topic,
        transfer.TransferRecorded.TOPIC: settings.transfers_topic,
    }
    runtime.renamed_topics.update(routes)  # created at start like the contracts' own
    publisher = RoutedPublisher(runtime.publisher, routes)
    uploads = Uploads(
        store=store,
        tokens=tokens
        or HttpTokenResolver(
            base_url=settings.auth_url, tokens=signer, timeout_s=settings.call_timeout_s
        ),
        consent=consent
        or HttpConsentCheck(
            base_url=settings.consent_url, tokens=signer, timeout_s=settings.call_timeout_s
        ),
        validator=validator,
        publisher=publisher,
        limits=Limits(
            max_total_bytes=settings.max_total_bytes,
            max_chunk_bytes=settings.max_chunk_bytes,
            min_chunk_bytes=settings.min_chunk_bytes,
            max_chunks=settings.max_chunks,
        ),
        source=f"kits.{settings.service_name}",
        upload_url=lambda upload_id: f"{public}/v1/uploads/{upload_id}",
        abandon_after_s=settings.abandon_after_s,
        temp_dir=settings.temp_dir,
    )
    sharing = Sharing(
        store=store,
        tokens=uploads.tokens,
        consent=uploads.consent,
        publisher=publisher,
        source=f"kits.{settings.service_name}",
    )
    return Container(
        settings=settings,
        runtime=runtime,
        signer=signer,
        store=store,
        validator=validator,
        uploads=uploads,
        sharing=sharing,
    )
