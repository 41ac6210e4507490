"""Sound's fixtures: a running sound service on the real Kafka and FerretDB."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from kits_testing import Servers
from shared.topics import DOMAIN_PARTITIONS
from sound.main import create_app
from sound_testing import FakeConsent, FakeTokens, Harness, sound_settings


@pytest.fixture
async def sound(
    servers: Servers,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> AsyncIterator[Harness]:
    """A fresh sound (own database; its own consent-events topic and group, and topics of its
    own for what it publishes: `SOUND_EVENTS_TOPIC`, `SOUND_TRANSFERS_TOPIC`); auth and consent
    are fakes of its ports."""
    topic = await make_topic(unique("t-sound-consent-events"), partitions=DOMAIN_PARTITIONS)
    settings = sound_settings(
        servers,
        consent_events_topic=topic,
        consent_events_group=unique("t-sound-consent"),
        events_topic=await make_topic(unique("t-sound-events"), partitions=DOMAIN_PARTITIONS),
        transfers_topic=await make_topic(unique("t-sound-transfers"), partitions=DOMAIN_PARTITIONS),
    )
    tokens, consent = FakeTokens(), FakeConsent()
    app = create_app(settings, tokens=tokens, consent=consent)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sound") as c,
    ):
        yield Harness(container=app.state.container, http=c, tokens=tokens, consent=consent)
    await mongo_client.drop_database(settings.database_name)
