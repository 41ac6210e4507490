"""The example end to end on the real Kafka and database: the read model and record-first."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from pymongo import AsyncMongoClient

from example_testing import example_settings, new_key
from kits_example.bootstrap import Container
from kits_example.config import ExampleSettings
from kits_example.main import create_app
from kits_testing import Servers
from shared.events import CONTENT_TYPE, make_event
from shared.events.consent import ConsentRevoked
from shared.events.envelope import InvalidEvent, parse_event
from shared.events.registry import REGISTRY
from shared.events.transfer import TransferRecorded
from shared.kafka.broker import make_broker
from shared.kafka.publisher import DurablePublisher
from shared.topics import CONSENT_EVENTS, TRANSFER_EVENTS, dead_letter_topic

pytestmark = pytest.mark.integration
Wait = Callable[..., Awaitable[None]]
GroupAtEnd = Callable[..., Awaitable[None]]


@dataclass
class Example:
    """A running example service and an HTTP client on it."""

    container: Container
    http: httpx.AsyncClient

    async def save_profile(self, user: str, *, username: str = "ada_l") -> None:
        response = await self.http.put(f"/profiles/{user}", json={"username": username})
        assert response.status_code == 204, response.text

    async def release(self, user: str, *, consent_id: str) -> httpx.Response:
        return await self.http.post(
            f"/profiles/{user}/releases",
            json={
                "app_id": "app_example",
                "pairwise_subject": new_key("pw"),
                "consent_id": consent_id,
                "consent_version": 1,
                "terms_version": "2026-01",
                "scopes": ["user.info.basic"],
                "purpose": "show the user's name in the app",
                "request_id": new_key("req"),
            },
        )


@asynccontextmanager
async def running(settings: ExampleSettings) -> AsyncIterator[Example]:
    """The app started as uvicorn would start it (lifespan), and a client on it."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ex") as http,
    ):
        yield Example(container=app.state.container, http=http)


@pytest.fixture
async def example(
    servers: Servers, group_at_end: GroupAtEnd, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[Example]:
    """The example on the shared servers; its group starts at the end of `consent.events`."""
    settings = example_settings(servers)
    await group_at_end(settings.consents_group, [CONSENT_EVENTS])
    async with running(settings) as example:
        yield example
    await mongo_client.drop_database(settings.database_name)


@pytest.fixture
async def consent_service(servers: Servers) -> AsyncIterator[DurablePublisher]:
    """A producer of its own, as the consent service would be."""
    broker = make_broker(
        example_settings(servers, service_name="t-consent", kafka_client_id="t-consent")
    )
    await broker.start()
    yield DurablePublisher(broker=broker, deadline_s=10)
    await broker.stop()


async def test_a_revoked_consent_reaches_the_read_model_and_its_release_is_refused(
    example: Example, consent_service: DurablePublisher, wait_until: Wait
) -> None:
    user, consent = new_key("uk"), new_key("c")
    await example.save_profile(user)
    assert (await example.release(user, consent_id=consent)).status_code == 200

    revoked = make_event(
        ConsentRevoked(user_key=user, app_id="app_example", consent_id=consent, version=2),
        source="/consent",
    )
    await consent_service.publish(revoked)
    await consent_service.publish(revoked)  # a copy: the read model ignores it
    store = example.container.handlers.revoked
    await wait_until(lambda: _is_revoked(example, consent))

    refused = await example.release(user, consent_id=consent)
    assert refused.status_code == 409
    assert f"consent {consent} was revoked" in refused.json()["detail"]
    assert "ada_l" not in refused.text
    stored = await store.get(consent)
    assert stored is not None
    assert (stored.event_id, stored.version, stored.user_key) == (revoked.id, 2, user)

    # The consumer flowed past the copy: a later revocation (same key, same partition) lands.
    later = new_key("c")
    await consent_service.publish(
        make_event(
            ConsentRevoked(user_key=user, app_id="app_example", consent_id=later, version=2),
            source="/consent",
        )
    )
    await wait_until(lambda: _is_revoked(example, later))


async def _is_revoked(example: Example, consent_id: str) -> bool:
    return await example.container.handlers.revoked.get(consent_id) is not None


async def test_a_release_is_on_transfer_events_with_the_digest_of_the_bytes_returned(
    example: Example, servers: Servers, unique: Callable[[str], str], group_at_end: GroupAtEnd
) -> None:
    user, consent, reader = new_key("uk"), new_key("c"), unique("t-example-reader")
    await example.save_profile(user, username="grace_h")
    await group_at_end(reader, [TRANSFER_EVENTS])

    response = await example.release(user, consent_id=consent)

    assert response.status_code == 200
    assert response.json()["username"] == "grace_h"
    transfer_id = response.headers["transfer-id"]
    record = await _transfer_record(servers.kafka, group_id=reader, transfer_id=transfer_id)
    event = parse_event(record.value, registry=REGISTRY)
    assert isinstance(event.data, TransferRecorded)
    assert event.data.digest_sha256 == hashlib.sha256(response.content).hexdigest()
    assert (event.data.user_key, event.data.consent_id) == (user, consent)
    assert event.data.fields_released == ("open_id", "username")
    assert record.key == user.encode()


async def _transfer_record(
    bootstrap: str, *, group_id: str, transfer_id: str
) -> ConsumerRecord[bytes, bytes]:
    """Read `transfer.events` from where the reader's group started (never from the start)."""
    consumer = AIOKafkaConsumer(
        TRANSFER_EVENTS, bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while True:
                for part in (await consumer.getmany(timeout_ms=500)).values():
                    for record in part:
                        if _transfer_id(record) == transfer_id:
                            return record
    finally:
        await consumer.stop()


def _transfer_id(record: ConsumerRecord[bytes, bytes]) -> str | None:
    try:
        event = parse_event(record.value or b"", registry=REGISTRY)
    except InvalidEvent:  # other tests put poison on the shared topics
        return None
    return event.data.transfer_id if isinstance(event.data, TransferRecorded) else None


async def test_a_revocation_that_breaks_its_contract_is_dead_lettered_and_the_rest_flows(
    example: Example,
    consent_service: DurablePublisher,
    topic_reader: Callable[..., Awaitable[list[ConsumerRecord[bytes, bytes]]]],
    wait_until: Wait,
) -> None:
    user, consent = new_key("uk"), new_key("c")
    good = make_event(
        ConsentRevoked(user_key=user, app_id="app_example", consent_id=consent, version=2),
        source="/consent",
    )
    bad = good.to_bytes().replace(b'"version":2', b'"version":0')  # versions start at 1
    await consent_service.publish_raw(
        topic=CONSENT_EVENTS, value=bad, key=good.key(), headers={"content-type": CONTENT_TYPE}
    )
    await consent_service.publish(good)  # same key, after the bad copy

    await wait_until(lambda: _is_revoked(example, consent))
    group = example.container.settings.consents_group
    [dead] = await topic_reader(dead_letter_topic(group).name, count=1)
    assert dead.value == bad
    headers = dict(dead.headers)
    assert headers["dlq-origin-topic"] == CONSENT_EVENTS.encode()
    assert headers["dlq-cause"] == b"invalid"
