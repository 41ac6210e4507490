"""Through the real broker: a record's own faults are parked, a failing server only blocks."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from kits_testing import Servers, StandaloneHost, topic_size
from shared.events import make_event
from shared.events.consent import ConsentGranted
from shared.kafka.broker import ensure_topics, make_broker
from shared.kafka.consumer import Delivery, RetryPolicy
from shared.kafka.publisher import DurablePublisher
from shared.kafka.subscribe import subscribe, subscribe_batch
from shared.settings import ServiceSettings
from shared.topics import TopicSpec, dead_letter_topic

pytestmark = pytest.mark.integration
DEEP = b"[" * 400_000
"""400 KB of `[`: `json.loads` raises RecursionError on it (before: redelivered forever)."""


def granted(n: int, *, user: str) -> ConsentGranted:
    return ConsentGranted(
        user_key=user,
        app_id="app_faults",
        consent_id=f"c_{n}",
        version=1,
        scopes=("user.info.basic",),
        terms_version="2026-01",
        retention_days=7,
    )


@pytest.fixture
async def broker(servers: Servers) -> KafkaBroker:
    return make_broker(
        ServiceSettings(
            environment="development",
            service_name="it-faults",
            kafka_bootstrap_servers=servers.kafka,
            publish_deadline_s=10,
        )
    )


async def _topics(servers: Servers, topic: str, group: str) -> None:
    await ensure_topics(
        bootstrap_servers=servers.kafka,
        topics=[TopicSpec(topic, 1, 3_600_000, "test"), dead_letter_topic(group)],
    )


async def test_deep_nesting_bare_and_in_an_envelope_is_dead_lettered_and_the_partition_flows(
    servers: Servers,
    broker: KafkaBroker,
    unique: Callable[[str], str],
    wait_until: Callable[..., Awaitable[None]],
    topic_reader: Callable[..., Awaitable[list[Any]]],
) -> None:
    topic, group, done = unique("it-deep"), unique("it-deep-g"), list[str]()
    await _topics(servers, topic, group)
    publisher = DurablePublisher(broker=broker, deadline_s=10)
    host = StandaloneHost(broker=broker, publisher=publisher, retry=RetryPolicy(hold_s=2))

    async def store(batch: Sequence[Delivery]) -> None:
        done.extend(d.event.id for d in batch)

    subscribe_batch(host, topic, group_id=group, handler=store)
    assert host.consumer_groups == [group]  # subscribing registered the group's dead letters
    good = make_event(granted(1, user="uk_deep_1"), source="/consent")
    inner = good.to_bytes().replace(
        b'"data":{', b'"deep":' + b"[" * 100_000 + b"]" * 100_000 + b',"data":{'
    )
    await broker.start()
    try:
        for value in (DEEP, inner):
            await publisher.publish_raw(topic=topic, value=value, key=b"k", headers={})
        await publisher.publish_raw(topic=topic, value=good.to_bytes(), key=b"k", headers={})
        await wait_until(lambda: _has(done, good.id), timeout_s=30)
        dead = await topic_reader(dead_letter_topic(group).name, count=2)
    finally:
        await broker.stop()
    assert [d.value for d in dead] == [DEEP, inner]
    for d in dead:
        headers = {k: v.decode() for k, v in d.headers}
        assert headers["dlq-cause"] == "undecodable"
        assert "nested deeper than" in headers["dlq-error"]


async def test_a_failing_server_blocks_the_partition_and_loses_nothing(
    servers: Servers,
    broker: KafkaBroker,
    unique: Callable[[str], str],
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    """Fails for longer than `hold_s`, twice over: handed back, redelivered, never parked."""
    topic, group = unique("it-block"), unique("it-block-g")
    await _topics(servers, topic, group)
    publisher = DurablePublisher(broker=broker, deadline_s=10)
    retry = RetryPolicy(backoff_s=0.05, max_backoff_s=0.2, hold_s=0.5)
    down_until, handled, calls = time.monotonic() + 1.6, list[str](), [0]

    async def handle(delivery: Delivery) -> None:
        calls[0] += 1
        if time.monotonic() < down_until:
            raise ConnectionError("the database is away")
        handled.append(delivery.event.id)

    subscribe(
        StandaloneHost(broker=broker, publisher=publisher, retry=retry),
        topic,
        group_id=group,
        handler=handle,
    )
    events = [make_event(granted(n, user="uk_block_1"), source="/consent") for n in range(3)]
    await broker.start()
    try:
        for event in events:
            await publisher.publish_raw(topic=topic, value=event.to_bytes(), key=b"k", headers={})
        await wait_until(lambda: _all(handled, [e.id for e in events]), timeout_s=30)
    finally:
        await broker.stop()
    assert handled == [e.id for e in events]  # in order, each once
    assert calls[0] > 5
    assert await topic_size(servers.kafka, dead_letter_topic(group).name) == 0


async def _has(ids: list[str], event_id: str) -> bool:
    return event_id in ids


async def _all(ids: list[str], wanted: list[str]) -> bool:
    return all(w in ids for w in wanted)
