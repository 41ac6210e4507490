"""Consent fixtures: a running consent service on the real servers (imported by conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from consent.bootstrap import Container
from consent.main import create_app
from consent_testing import ConsentHarness, FakeDeletionRequester, consent_settings, event_of
from kits_testing import Servers
from shared.events import CloudEvent, EventData
from shared.events.envelope import CONTENT_TYPE
from shared.topics import DOMAIN_PARTITIONS


@pytest.fixture
async def consent(
    servers: Servers,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> AsyncIterator[ConsentHarness]:
    """A fresh consent instance: its own database, group and topics (consent and auth events)."""
    # as many partitions as the domain topics: a key lands where it would in production
    events_topic = await make_topic(unique("t-consent-events"), partitions=DOMAIN_PARTITIONS)
    auth_topic = await make_topic(unique("t-auth-events"), partitions=DOMAIN_PARTITIONS)
    settings = consent_settings(servers, events_topic=events_topic, auth_events_topic=auth_topic)
    deletions = FakeDeletionRequester()
    app = create_app(settings, deletions=deletions)
    container: Container = app.state.container
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://consent"
        ) as client,
    ):

        async def send_auth(data: EventData) -> CloudEvent[Any]:
            event = event_of(data)
            await container.runtime.publisher.publish_raw(
                topic=auth_topic,
                value=event.to_bytes(),
                key=event.key(),
                headers={"content-type": CONTENT_TYPE},
            )
            return event

        yield ConsentHarness(
            container=container,
            http=client,
            deletions=deletions,
            events_topic=events_topic,
            auth_topic=auth_topic,
            send_auth=send_auth,
        )
    await mongo_client.drop_database(settings.database_name)
