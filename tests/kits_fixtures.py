"""Fixtures every test folder shares (loaded by the root conftest.py as a plugin)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from kits_testing import (
    HOW_TO_START,
    Servers,
    docker_answers,
    eventually,
    read_record_at,
    read_topic,
    start_group_at_end,
)
from shared.kafka.broker import ensure_topics
from shared.topics import TopicSpec


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """The servers from the environment, else testcontainers, else a failure saying what to do."""
    kafka, mongodb_url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URL")
    if kafka and mongodb_url:
        yield Servers(kafka=kafka, mongodb_url=mongodb_url)
        return
    if not docker_answers():
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
async def make_topic(servers: Servers) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Create a fresh topic on the real broker and return its name; the test's topics are
    deleted after it (best effort), so a long-lived local broker does not pile them up (one
    such broker ran out of heap at 11,700 partitions)."""
    made: list[str] = []

    async def make(name: str, *, partitions: int = 1) -> str:
        await ensure_topics(
            bootstrap_servers=servers.kafka,
            topics=[TopicSpec(name, partitions, 3_600_000, "test")],
        )
        made.append(name)
        return name

    yield make
    if made:
        admin = AIOKafkaAdminClient(bootstrap_servers=servers.kafka)
        try:
            await admin.start()
            await admin.delete_topics(made)
        except Exception:  # noqa: BLE001 - a topic left behind only costs broker memory
            pass
        finally:
            await admin.close()


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


@pytest.fixture
def wait_until() -> Callable[..., Awaitable[None]]:
    """`await wait_until(async_predicate)`."""
    return eventually


@pytest.fixture
def group_at_end(servers: Servers) -> Callable[..., Awaitable[None]]:
    """`await group_at_end(group_id, [topics])`."""

    async def start(group_id: str, topics: list[str]) -> None:
        await start_group_at_end(servers.kafka, group_id=group_id, topics=topics)

    return start
