"""Helpers for tests that talk to the real servers (fixtures live in the root conftest.py)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker

from shared.kafka.broker import topic_partitions
from shared.kafka.consumer import RetryPolicy
from shared.kafka.publisher import DurablePublisher

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


def docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    count: int,
    timeout_s: float = 20.0,
    until: Callable[[list[ConsumerRecord[bytes, bytes]]], bool] | None = None,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read a topic from the start until `count` records (and `until`, if given) are there."""
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
            while len(records) < count or (until is not None and not until(records)):
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


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 20.0, every_s: float = 0.05
) -> None:
    """Poll until `check()` is true (never a fixed sleep), or fail after the timeout."""
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 - polling a real server, not an event
            await asyncio.sleep(every_s)


async def start_group_at_end(bootstrap: str, *, group_id: str, topics: list[str]) -> None:
    """Commit a new group's offsets at the current end, so it sees only what comes next.

    Tests publish to the real, shared domain topics; this keeps them from replaying history.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [tp for topic in topics for tp in await topic_partitions(consumer, topic)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: offset for tp, offset in ends.items()})
    finally:
        await consumer.stop()


@dataclass
class StandaloneHost:
    """What `shared.kafka.subscribe` needs, for tests that subscribe without a service Runtime."""

    broker: KafkaBroker
    publisher: DurablePublisher
    retry: RetryPolicy
    consumer_groups: list[str] = field(default_factory=list)


async def topic_size(bootstrap: str, topic: str) -> int:
    """How many records a topic has had (the sum of its partitions' end offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await topic_partitions(consumer, topic)
        return sum((await consumer.end_offsets(parts)).values())
    finally:
        await consumer.stop()


async def topic_ends(bootstrap: str, topic: str) -> dict[int, int]:
    """Each partition's end offset now (read a shared topic from here, never its start)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not parts:
            parts = [
                TopicPartition(topic, p) for p in range(await _partition_count(consumer, topic))
            ]
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


async def _partition_count(consumer: AIOKafkaConsumer, topic: str) -> int:
    await consumer._client.force_metadata_update()
    return len(consumer.partitions_for_topic(topic) or ())


async def read_since(
    bootstrap: str,
    topic: str,
    *,
    since: dict[int, int],
    until: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    timeout_s: float = 20.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read a topic from the given offsets until `until` holds for what was read."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    parts = [TopicPartition(topic, p) for p in since]
    consumer.assign(parts)
    for tp in parts:
        consumer.seek(tp, since[tp.partition])
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(timeout_s):
            while not until(records):
                batch = await consumer.getmany(timeout_ms=300)
                for part in batch.values():
                    records.extend(part)
    finally:
        await consumer.stop()
    return records


def kafka_instance(action: str, *, name: str, port: int) -> None:
    """Start (`up`) or stop (`down`) a Kafka of a test's own with the project's script, on
    `port` and its controller on `port + 1`; the shared broker is never touched."""
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [
            sys.executable,
            str(root / "scripts/servers.py"),
            *("kafka", action, "--instance", name),
            *("--port", str(port), "--controller-port", str(port + 1)),
        ],
        check=True,
        cwd=root,
        timeout=180,
    )
