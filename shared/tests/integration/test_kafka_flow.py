"""Events through the real broker: delivery, contracts, idempotence, dead letters."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured
from cloudevents.core.formats.json import JSONFormat
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from kits_testing import Servers, StandaloneHost
from shared.events import CONTENT_TYPE, make_event
from shared.events.consent import ConsentGranted
from shared.events.schemas import committed_schemas
from shared.kafka.broker import ensure_topics, make_broker
from shared.kafka.consumer import Delivery, PermanentError, RetryPolicy
from shared.kafka.publisher import DurablePublisher
from shared.kafka.subscribe import subscribe, subscribe_batch
from shared.mongo import insert_many_once, insert_once
from shared.settings import ServiceSettings
from shared.topics import CONSENT_EVENTS, DOMAIN_TOPICS, dead_letter_topic

pytestmark = pytest.mark.integration
RETRY = RetryPolicy(backoff_s=0.01, max_backoff_s=0.05, hold_s=2.0)


def granted(n: int, *, user: str = "uk_flow_user_1") -> ConsentGranted:
    return ConsentGranted(
        user_key=user,
        app_id="app_flow",
        consent_id=f"c_{n}",
        version=1,
        scopes=("user.info.basic",),
        terms_version="2026-01",
        retention_days=7,
    )


@pytest.fixture
def settings(servers: Servers) -> ServiceSettings:
    return ServiceSettings(
        environment="development",
        service_name="it",
        kafka_bootstrap_servers=servers.kafka,
        publish_deadline_s=10,
    )


@pytest.fixture
def broker(settings: ServiceSettings) -> KafkaBroker:
    return make_broker(settings)


def host(broker: KafkaBroker, publisher: DurablePublisher) -> StandaloneHost:
    return StandaloneHost(broker=broker, publisher=publisher, retry=RETRY)


async def started(broker: KafkaBroker, settings: ServiceSettings, *groups: str) -> None:
    await ensure_topics(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topics=[*DOMAIN_TOPICS, *(dead_letter_topic(g) for g in groups)],
    )
    await broker.start()


async def test_event_reaches_a_consumer_in_another_group_and_matches_its_contract(
    broker: KafkaBroker,
    settings: ServiceSettings,
    unique: Callable[[str], str],
    group_at_end: Callable[..., Awaitable[None]],
    wait_until: Callable[..., Awaitable[None]],
    record_at: Callable[..., Awaitable[Any]],
) -> None:
    group = unique("it-reader")
    await ensure_topics(bootstrap_servers=settings.kafka_bootstrap_servers, topics=DOMAIN_TOPICS)
    await group_at_end(group, [CONSENT_EVENTS])
    received: list[Delivery] = []

    async def on_granted(delivery: Delivery) -> None:
        received.append(delivery)

    subscribe(
        host(broker, DurablePublisher(broker=broker, deadline_s=10)),
        CONSENT_EVENTS,
        group_id=group,
        handler=on_granted,
    )
    await started(broker, settings, group)
    try:
        sent = make_event(granted(1), source="/consent")
        meta = await DurablePublisher(broker=broker, deadline_s=10).publish(sent)
        await wait_until(lambda: _has(received, sent.id))
    finally:
        await broker.stop()

    delivery = next(d for d in received if d.event.id == sent.id)
    assert delivery.event == sent
    assert (delivery.origin.topic, delivery.origin.key) == (CONSENT_EVENTS, sent.key())
    jsonschema.validate(json.loads(delivery.raw), committed_schemas()[ConsentGranted.TYPE])
    record = await record_at(CONSENT_EVENTS, partition=meta.partition, offset=meta.offset)
    headers = dict(record.headers)
    assert headers["content-type"] == CONTENT_TYPE.encode()
    sdk = from_structured(
        KafkaMessage(headers=headers, key=record.key, value=record.value), JSONFormat()
    )
    assert (sdk.get_id(), sdk.get_type(), sdk.get_subject()) == (
        sent.id,
        "consent.granted.v1",
        "uk_flow_user_1",
    )


async def test_the_same_event_delivered_twice_has_one_effect(
    broker: KafkaBroker,
    settings: ServiceSettings,
    db: AsyncDatabase[dict[str, Any]],
    unique: Callable[[str], str],
    group_at_end: Callable[..., Awaitable[None]],
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    group, calls = unique("it-idem"), []
    await ensure_topics(bootstrap_servers=settings.kafka_bootstrap_servers, topics=DOMAIN_TOPICS)
    await group_at_end(group, [CONSENT_EVENTS])

    async def project(delivery: Delivery) -> None:
        calls.append(delivery.event.id)
        await insert_once(
            db.effects, {"_id": delivery.event.id, "consent": delivery.event.data.consent_id}
        )

    publisher = DurablePublisher(broker=broker, deadline_s=10)
    subscribe(host(broker, publisher), CONSENT_EVENTS, group_id=group, handler=project)
    await started(broker, settings, group)
    try:
        event = make_event(granted(2), source="/consent")
        await publisher.publish(event)
        await publisher.publish(event)
        await wait_until(lambda: _at_least(calls, event.id, 2))
    finally:
        await broker.stop()
    assert await db.effects.count_documents({}) == 1


async def test_a_rejected_message_is_dead_lettered_as_it_came_and_the_partition_flows(
    broker: KafkaBroker,
    settings: ServiceSettings,
    unique: Callable[[str], str],
    group_at_end: Callable[..., Awaitable[None]],
    wait_until: Callable[..., Awaitable[None]],
    topic_reader: Callable[..., Awaitable[list[Any]]],
    record_at: Callable[..., Awaitable[Any]],
) -> None:
    group, done, attempts = unique("it-dlq"), [], []
    await ensure_topics(bootstrap_servers=settings.kafka_bootstrap_servers, topics=DOMAIN_TOPICS)
    await group_at_end(group, [CONSENT_EVENTS])
    poison, good = make_event(granted(66), source="/c"), make_event(granted(67), source="/c")

    async def handle(delivery: Delivery) -> None:
        if delivery.event.id == poison.id:
            attempts.append(1)
            raise PermanentError("this one breaks a rule")
        done.append(delivery.event.id)

    publisher = DurablePublisher(broker=broker, deadline_s=10)
    subscribe(host(broker, publisher), CONSENT_EVENTS, group_id=group, handler=handle)
    await started(broker, settings, group)
    try:
        poison_meta = await publisher.publish(poison)
        await publisher.publish(good)  # same key, so the same partition, after the poison
        await wait_until(lambda: _has_id(done, good.id))
    finally:
        await broker.stop()

    assert len(attempts) == 1  # the handler's own word: no retry
    [dead] = await topic_reader(dead_letter_topic(group).name, count=1)
    original = await record_at(
        CONSENT_EVENTS, partition=poison_meta.partition, offset=poison_meta.offset
    )
    headers = {k: v.decode() for k, v in dead.headers}
    assert dead.value == poison.to_bytes()
    assert dead.key == poison.key()
    assert dead.timestamp == original.timestamp
    assert [h for h in dead.headers if not h[0].startswith("dlq-")] == list(original.headers)
    assert headers["dlq-cause"] == "rejected"
    assert headers["dlq-origin-timestamp"] == str(original.timestamp)
    assert headers["dlq-origin-topic"] == CONSENT_EVENTS
    assert int(headers["dlq-origin-partition"]) == poison_meta.partition
    assert int(headers["dlq-origin-offset"]) == poison_meta.offset
    assert base64.b64decode(headers["dlq-origin-key"]) == poison.key()
    assert headers["dlq-error-type"] == "PermanentError"
    assert headers["dlq-error"] == "this one breaks a rule"
    assert headers["dlq-group"] == group


async def test_bytes_that_are_not_json_or_not_a_known_type_are_dead_lettered(
    broker: KafkaBroker,
    settings: ServiceSettings,
    unique: Callable[[str], str],
    group_at_end: Callable[..., Awaitable[None]],
    wait_until: Callable[..., Awaitable[None]],
    topic_reader: Callable[..., Awaitable[list[Any]]],
) -> None:
    group, done = unique("it-bad"), []
    await ensure_topics(bootstrap_servers=settings.kafka_bootstrap_servers, topics=DOMAIN_TOPICS)
    await group_at_end(group, [CONSENT_EVENTS])

    async def handle(delivery: Delivery) -> None:
        done.append(delivery.event.id)

    publisher = DurablePublisher(broker=broker, deadline_s=10)
    subscribe(host(broker, publisher), CONSENT_EVENTS, group_id=group, handler=handle)
    await started(broker, settings, group)
    unknown = json.loads(make_event(granted(3), source="/c").to_bytes())
    unknown["type"] = "consent.teleported.v1"
    good = make_event(granted(4), source="/c")
    try:
        for value in (b"\x00 not json {", json.dumps(unknown).encode()):
            await publisher.publish_raw(
                topic=CONSENT_EVENTS, value=value, key=good.key(), headers={}
            )
        await publisher.publish(good)
        await wait_until(lambda: _has_id(done, good.id))
    finally:
        await broker.stop()

    dead = await topic_reader(dead_letter_topic(group).name, count=2)
    causes = sorted({k: v.decode() for k, v in d.headers}["dlq-error"] for d in dead)
    assert causes[0].startswith("not valid JSON")
    assert causes[1] == "unknown event type: 'consent.teleported.v1'"
    assert {d.value for d in dead} == {b"\x00 not json {", json.dumps(unknown).encode()}


async def test_the_batch_path_stores_once_and_isolates_a_poison_event(
    broker: KafkaBroker,
    settings: ServiceSettings,
    db: AsyncDatabase[dict[str, Any]],
    unique: Callable[[str], str],
    group_at_end: Callable[..., Awaitable[None]],
    wait_until: Callable[..., Awaitable[None]],
    topic_reader: Callable[..., Awaitable[list[Any]]],
) -> None:
    group = unique("it-batch")
    await ensure_topics(bootstrap_servers=settings.kafka_bootstrap_servers, topics=DOMAIN_TOPICS)
    await group_at_end(group, [CONSENT_EVENTS])
    events = [make_event(granted(n, user=f"uk_batch_{n % 4}"), source="/c") for n in range(200)]
    poison = events[57]

    async def store(batch: Sequence[Delivery]) -> None:
        if any(d.event.id == poison.id for d in batch):
            raise PermanentError("poison in batch")
        await insert_many_once(db.batch, [{"_id": d.event.id} for d in batch])

    publisher = DurablePublisher(broker=broker, deadline_s=10)
    subscribe_batch(
        host(broker, publisher), CONSENT_EVENTS, group_id=group, handler=store, max_records=50
    )
    await started(broker, settings, group)
    try:
        await publisher.publish_many(events)
        await publisher.publish_many(events[:20])  # redelivered duplicates
        await wait_until(lambda: _count(db, 199))
        [dead] = await topic_reader(dead_letter_topic(group).name, count=1)
    finally:
        await broker.stop()
    assert dead.value == poison.to_bytes()
    await asyncio.sleep(0)
    assert await db.batch.count_documents({}) == 199


async def _count(db: AsyncDatabase[dict[str, Any]], n: int) -> bool:
    return await db.batch.count_documents({}) >= n


async def _has(received: list[Delivery], event_id: str) -> bool:
    return any(d.event.id == event_id for d in received)


async def _has_id(ids: list[str], event_id: str) -> bool:
    return event_id in ids


async def _at_least(ids: list[str], event_id: str, n: int) -> bool:
    return ids.count(event_id) >= n
