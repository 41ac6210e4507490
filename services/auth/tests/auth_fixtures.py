"""Auth fixtures: a running auth service on the real servers (imported by conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from auth.bootstrap import Container
from auth.main import create_app
from auth_testing import ISSUER, AuthHarness, auth_settings
from kits_testing import Servers


@pytest.fixture
async def auth(
    servers: Servers, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[AuthHarness]:
    """A fresh auth instance with its own database, on the shared broker (https base URL, so
    the client's cookie jar sends the Secure session cookie)."""
    settings = auth_settings(servers)
    app = create_app(settings)
    container: Container = app.state.container
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as client,
    ):
        yield AuthHarness(container=container, http=client)
    await mongo_client.drop_database(settings.database_name)
