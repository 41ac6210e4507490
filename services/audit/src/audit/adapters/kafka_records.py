"""Reading the topics from the beginning, a partition at a time, for replay and the mirror check.

Streams: one batch of one partition in memory at a time, whatever the topic holds. Kafka offsets
may skip (transaction markers, compaction), so a partition is read until the consumer's position
reaches the end offset noted when the read began, not by counting offsets.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka.broker import topic_partitions

FETCH_TIMEOUT_MS = 1000


class KafkaRecords:
    """Every record of a partition up to its current end, in offset order, in batches."""

    def __init__(self, *, bootstrap: str) -> None:
        self._bootstrap = bootstrap

    async def partitions(self, topics: Sequence[str]) -> list[tuple[str, int]]:
        """Every (topic, partition) of these topics."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            return [
                (tp.topic, tp.partition)
                for t in topics
                for tp in await topic_partitions(consumer, t)
            ]
        finally:
            await consumer.stop()

    async def read(
        self, topic: str, partition: int, *, batch: int = 2000
    ) -> AsyncGenerator[list[Any]]:
        """The partition's records from its beginning to its end offset, `batch` at a time."""
        tp = TopicPartition(topic, partition)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await consumer.start()
        try:
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            while await consumer.position(tp) < end:
                got = await consumer.getmany(tp, timeout_ms=FETCH_TIMEOUT_MS, max_records=batch)
                records = [r for r in got.get(tp, []) if r.offset < end]
                if records:
                    yield records
        finally:
            await consumer.stop()

    async def committed(self, group_id: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        """The group's committed offsets (the next record it will read), by partition."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await admin.start()
        try:
            parts = [TopicPartition(t, p) for t, p in await self.partitions(topics)]
            offsets = await admin.list_consumer_group_offsets(group_id, partitions=parts)
        finally:
            await admin.close()
        return {
            (tp.topic, tp.partition): meta.offset
            for tp, meta in offsets.items()
            if meta is not None and meta.offset >= 0
        }
