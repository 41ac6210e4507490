"""How far the ledger's consumer group has got on the topics the verdicts depend on."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import murmur2

from audit.domain.watermarks import Partition
from shared.kafka.broker import topic_partitions


def partition_of(key: str, *, partitions: int) -> int:
    """The partition Kafka's default partitioner gives this key (murmur2, as in Java)."""
    return int((murmur2(key.encode()) & 0x7FFFFFFF) % partitions)


class KafkaProgress:
    """End offsets of the watched topics and the ledger group's committed offsets."""

    def __init__(
        self, *, bootstrap: str, group_id: str, topics: tuple[str, ...], partitions: int
    ) -> None:
        self._bootstrap, self._group, self._topics = bootstrap, group_id, topics
        self._partitions = partitions
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None

    async def start(self) -> None:
        """Connect (no group: this client only asks for offsets)."""
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False
        )
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await self._consumer.start()
        await self._admin.start()

    async def stop(self) -> None:
        """Disconnect."""
        if self._consumer is not None:
            await self._consumer.stop()
        if self._admin is not None:
            await self._admin.close()

    def partition(self, key: str) -> int:
        """The partition of a key in the watched topics (they share one partition count)."""
        return partition_of(key, partitions=self._partitions)

    async def offsets(self) -> tuple[dict[Partition, int], dict[Partition, int]]:
        """(end offsets, committed offsets of the ledger group) of every watched partition."""
        if self._consumer is None or self._admin is None:
            raise RuntimeError("KafkaProgress.start() first")
        parts = [tp for t in self._topics for tp in await topic_partitions(self._consumer, t)]
        if not parts:  # a ledger without consent or terms topics waits for nothing
            return {}, {}
        ends = await self._consumer.end_offsets(parts)
        committed = await self._admin.list_consumer_group_offsets(self._group, partitions=parts)
        return (
            {(tp.topic, tp.partition): off for tp, off in ends.items()},
            {
                (tp.topic, tp.partition): meta.offset
                for tp, meta in committed.items()
                if meta is not None and meta.offset >= 0
            },
        )
