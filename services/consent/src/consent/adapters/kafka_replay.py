"""Every record of a topic, partition by partition, from its beginning to its current end."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer

from shared.kafka.broker import topic_partitions

FETCH_TIMEOUT_MS = 500


async def topic_values(
    *, bootstrap: str, topic: str, batch: int = 2000
) -> AsyncIterator[list[bytes]]:
    """The record values of each partition in offset order, `batch` at a time."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await topic_partitions(consumer, topic)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        for tp in parts:
            while await consumer.position(tp) < ends[tp]:
                got = await consumer.getmany(tp, timeout_ms=FETCH_TIMEOUT_MS, max_records=batch)
                values = [r.value for r in got.get(tp, []) if r.offset < ends[tp]]
                if values:
                    yield [v for v in values if v is not None]
    finally:
        await consumer.stop()
