"""Sound's fixtures: a running sound service on the real Kafka and FerretDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from kits_testing import Servers
from sound.main import create_app
from sound_testing import FakeConsent, FakeTokens, Harness, sound_settings


@pytest.fixture
async def sound(
    servers: Servers, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[Harness]:
    settings = sound_settings(servers)
    tokens, consent = FakeTokens(), FakeConsent()
    app = create_app(settings, tokens=tokens, consent=consent)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sound") as c,
    ):
        yield Harness(container=app.state.container, http=c, tokens=tokens, consent=consent)
    await mongo_client.drop_database(settings.database_name)
