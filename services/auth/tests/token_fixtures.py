"""The `tokens` fixture: auth on the real servers with fake consent and transfer ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from oauth_fakes import FakeConsentCheck, FakeTransfers
from pymongo import AsyncMongoClient
from token_testing import CALLERS, TokenHarness, register_apps

from auth.bootstrap import bootstrap
from auth.main import create_app
from auth_testing import ISSUER, AuthHarness, auth_settings
from kits_testing import Servers
from shared.topics import DOMAIN_PARTITIONS


@pytest.fixture
async def tokens(
    servers: Servers,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> AsyncIterator[TokenHarness]:
    """A fresh auth (own database, 4 OAuth shards, a consent-events topic of its own) and two
    apps: one confidential, one public."""
    topic = await make_topic(unique("t-auth-consent-events"), partitions=DOMAIN_PARTITIONS)
    settings = auth_settings(servers, consent_events_topic=topic, service_callers=CALLERS)
    consent, transfers = FakeConsentCheck(), FakeTransfers()
    container = bootstrap(settings, consent_check=consent, transfers=transfers)
    app = create_app(container=container)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=ISSUER) as client,
    ):
        harness = AuthHarness(container=container, http=client)
        client_id, secret, public_id = await register_apps(harness)
        yield TokenHarness(harness, consent, transfers, client_id, secret, public_id, transport)
    await mongo_client.drop_database(settings.database_name)
