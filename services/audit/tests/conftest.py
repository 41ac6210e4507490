"""Audit fixtures: a running audit service on the real servers, and separate producers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from audit.bootstrap import Container
from audit.main import create_app
from audit_testing import Alone, AuditHarness, Publish, audit_settings
from kits_testing import Servers, start_group_at_end
from shared.events import CloudEvent, EventData, make_event
from shared.kafka.broker import ensure_topics, make_broker
from shared.kafka.publisher import DurablePublisher
from shared.settings import ServiceSettings
from shared.topics import DOMAIN_TOPICS


@pytest.fixture
async def audit(
    servers: Servers, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[AuditHarness]:
    """A fresh audit instance: its own database and consumer group, the shared topics read from
    their current end (what other tests and earlier runs left there is not this test's: reading
    it from the beginning made every test pay for the whole history of the shared server)."""
    settings = audit_settings(servers)
    await ensure_topics(bootstrap_servers=servers.kafka, topics=list(DOMAIN_TOPICS))
    await start_group_at_end(
        servers.kafka, group_id=settings.ledger_group, topics=list(settings.ledger_topic_names)
    )
    app = create_app(settings)
    container: Container = app.state.container
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://audit"
        ) as client,
    ):
        yield AuditHarness(container=container, http=client)
    await mongo_client.drop_database(settings.database_name)


@pytest.fixture
async def audit_alone(
    servers: Servers,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    producers: dict[str, DurablePublisher],
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> AsyncIterator[Alone]:
    """For tests that compare the ledger with all of its topics (replay): fresh topics that
    only this test writes, so the ledger mirrors them from offset 0 and nothing else is there."""
    topics = {
        name: await make_topic(unique(f"t-ledger-{name}"), partitions=3)
        for name in ("auth", "consent", "sound", "transfer")
    }
    settings = audit_settings(servers, ledger_topics=",".join(topics.values()))
    app = create_app(settings)

    async def send(producer: str, data: EventData) -> CloudEvent[Any]:
        event = make_event(data, source=f"/{producer}")
        topic = topics[data.TOPIC.split(".")[0]]
        await producers[producer].publish_raw(
            topic=topic, value=event.to_bytes(), key=event.key(), headers={}
        )
        return event

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://audit"
        ) as client,
    ):
        yield Alone(
            harness=AuditHarness(container=app.state.container, http=client),
            topics=topics,
            publish=send,
        )
    await mongo_client.drop_database(settings.database_name)


@pytest.fixture
async def producers(servers: Servers) -> AsyncIterator[dict[str, DurablePublisher]]:
    """Separate producers, as the auth, consent and sound services would be."""
    brokers: dict[str, KafkaBroker] = {}
    for name in ("auth", "consent", "sound"):
        brokers[name] = make_broker(
            ServiceSettings(
                environment="development",
                service_name=f"t-{name}",
                kafka_bootstrap_servers=servers.kafka,
            )
        )
        await brokers[name].start()
    yield {n: DurablePublisher(broker=b, deadline_s=10) for n, b in brokers.items()}
    for broker in brokers.values():
        await broker.stop()


@pytest.fixture
def publish(producers: dict[str, DurablePublisher]) -> Publish:
    """`await publish("consent", ConsentGranted(...))` through that producer; returns the event."""

    async def send(producer: str, data: EventData) -> CloudEvent[Any]:
        event = make_event(data, source=f"/{producer}")
        await producers[producer].publish(event)
        return event

    return send
