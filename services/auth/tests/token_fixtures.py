"""The `tokens` fixture: auth on the real servers with fake consent and transfer ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from token_fakes import FakeTransferRecorder, FlakyConsentCheck
from token_testing import TokenHarness, register_apps

from auth.bootstrap import bootstrap
from auth.main import create_app
from auth_testing import ISSUER, AuthHarness, auth_settings
from kits_testing import Servers


@pytest.fixture
async def tokens(
    servers: Servers, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[TokenHarness]:
    """A fresh auth (own database, 4 OAuth shards) and two apps: one confidential, one public."""
    settings = auth_settings(servers, oauth_collection_shards=4)
    consent, transfers = FlakyConsentCheck(), FakeTransferRecorder()
    container = bootstrap(settings, consent_check=consent, transfers=transfers)
    app = create_app(container=container)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as client,
    ):
        harness = AuthHarness(container=container, http=client)
        client_id, secret, public_id = await register_apps(harness)
        yield TokenHarness(harness, consent, transfers, client_id, secret, public_id)
    await mongo_client.drop_database(settings.database_name)
