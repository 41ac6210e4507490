"""Fixtures every test folder shares: where the real servers are, and clean places in them.

Integration tests use the servers named by KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL (what
`scripts/servers.py env` exports, and what `make check` sets). Where those are absent and a
Docker engine answers, testcontainers starts Kafka (KRaft) and MongoDB. Where neither is there,
the tests fail and say how to start the servers: they never skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.kafka.broker import ensure_topics
from shared.topics import TopicSpec

HOW_TO_START = (
    "no servers for integration tests: run `make check` (it starts them), or "
    '`python3 scripts/servers.py up && eval "$(python3 scripts/servers.py env)"`, '
    "or set KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL, or run where a Docker engine answers"
)


@dataclass(frozen=True)
class Servers:
    """Addresses of the real Kafka broker and MongoDB-compatible server."""

    kafka: str
    mongodb_url: str


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """The servers from the environment, else testcontainers, else a failure saying what to do."""
    kafka, mongodb_url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URL")
    if kafka and mongodb_url:
        yield Servers(kafka=kafka, mongodb_url=mongodb_url)
        return
    if not _docker_answers():
        pytest.fail(HOW_TO_START, pytrace=False)
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    with KafkaContainer().with_kraft() as k, MongoDbContainer("mongo:7") as m:
        yield Servers(kafka=k.get_bootstrap_server(), mongodb_url=m.get_connection_url())


@pytest.fixture(scope="session")
async def mongo_client(servers: Servers) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    """One client for the whole session."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        servers.mongodb_url, serverSelectionTimeoutMS=5000, tz_aware=True
    )
    yield client
    await client.close()


@pytest.fixture
async def db(
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """A fresh database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield mongo_client[name]
    await mongo_client.drop_database(name)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names no other test (or earlier run) uses: topics, groups, databases."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_topic(servers: Servers) -> Callable[..., Awaitable[str]]:
    """Create a fresh topic on the real broker and return its name."""

    async def make(name: str, *, partitions: int = 1) -> str:
        await ensure_topics(
            bootstrap_servers=servers.kafka,
            topics=[TopicSpec(name, partitions, 3_600_000, "test")],
        )
        return name

    return make


async def read_topic(
    bootstrap: str, topic: str, *, count: int, timeout_s: float = 20.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read `count` records of a topic from the start with plain aiokafka (or fail on timeout)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for part in batch.values():
                    records.extend(part)
    finally:
        await consumer.stop()
    return records


async def read_record_at(
    bootstrap: str, topic: str, *, partition: int, offset: int
) -> ConsumerRecord[bytes, bytes]:
    """The one record at a topic, partition and offset."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        async with asyncio.timeout(20):
            return await consumer.getone(tp)
    finally:
        await consumer.stop()


@pytest.fixture
def record_at(servers: Servers) -> Callable[..., Awaitable[ConsumerRecord[bytes, bytes]]]:
    """`await record_at(topic, partition=p, offset=o)`."""

    async def read(topic: str, *, partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
        return await read_record_at(servers.kafka, topic, partition=partition, offset=offset)

    return read


@pytest.fixture
def topic_reader(servers: Servers) -> Callable[..., Awaitable[list[ConsumerRecord[bytes, bytes]]]]:
    """`await topic_reader(topic, count=n)`: the first n records of a topic."""

    async def read(topic: str, *, count: int, timeout_s: float = 20.0) -> list[Any]:
        return await read_topic(servers.kafka, topic, count=count, timeout_s=timeout_s)

    return read


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 20.0, every_s: float = 0.05
) -> None:
    """Poll until `check()` is true (never a fixed sleep), or fail after the timeout."""
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 - polling a real server, not an event
            await asyncio.sleep(every_s)


@pytest.fixture
def wait_until() -> Callable[..., Awaitable[None]]:
    """`await wait_until(async_predicate)`."""
    return eventually


async def start_group_at_end(bootstrap: str, *, group_id: str, topics: list[str]) -> None:
    """Commit a new group's offsets at the current end, so it sees only what comes next.

    Tests publish to the real, shared domain topics; this keeps them from replaying history.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(
                consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
            )
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: offset for tp, offset in ends.items()})
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


@pytest.fixture
def group_at_end(servers: Servers) -> Callable[..., Awaitable[None]]:
    """`await group_at_end(group_id, [topics])`."""

    async def start(group_id: str, topics: list[str]) -> None:
        await start_group_at_end(servers.kafka, group_id=group_id, topics=topics)

    return start
