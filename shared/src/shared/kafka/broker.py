"""The broker factory and explicit topic creation."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code
from faststream.kafka import KafkaBroker

from shared.settings import ServiceSettings
from shared.topics import TopicSpec

log = logging.getLogger(__name__)
TOPIC_ALREADY_EXISTS = 36


def make_broker(settings: ServiceSettings) -> KafkaBroker:
    """One broker per app: producer with acks=all and idempotence, no topic auto-creation."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=settings.client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=1024 * 1024,
        request_timeout_ms=int(settings.publish_deadline_s * 1000) + 5000,
        allow_auto_create_topics=False,
        logger=logging.getLogger(f"{settings.service_name}.broker"),
        log_level=logging.DEBUG,
        graceful_timeout=10.0,
    )


class TopicCreationFailed(RuntimeError):
    """The broker refused to create a topic (e.g. more replicas asked for than it has brokers)."""


async def ensure_topics(
    *,
    bootstrap_servers: str,
    topics: Iterable[TopicSpec],
    replication_factor: int = 1,
    min_insync_replicas: int = 1,
) -> list[str]:
    """Create the missing topics with their partitions, retention and durability; returns them.

    Every topic, dead-letter topics included, gets the same replication factor and
    `min.insync.replicas` (settings `KAFKA_REPLICATION_FACTOR`, `KAFKA_MIN_INSYNC_REPLICAS`).
    Topics that already exist are left as they are.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in topics if spec.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            _new_topics(missing, replicas=(replication_factor, min_insync_replicas))
        )
        for name, code, *message in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise TopicCreationFailed(
                    f"could not create topic {name} with replication factor "
                    f"{replication_factor} and min.insync.replicas {min_insync_replicas}: "
                    f"{for_code(code).__name__} ({code}): {message[0] if message else ''}"
                )
        log.info("topics created", extra={"topics": [s.name for s in missing]})
        return [spec.name for spec in missing]
    finally:
        await admin.close()


def _new_topics(specs: Iterable[TopicSpec], *, replicas: tuple[int, int]) -> list[NewTopic]:
    """The topics to create: (replication factor, min.insync.replicas) for each."""
    factor, min_insync = replicas
    return [
        NewTopic(
            name=spec.name,
            num_partitions=spec.partitions,
            replication_factor=factor,
            topic_configs={**spec.configs(), "min.insync.replicas": str(min_insync)},
        )
        for spec in specs
    ]


async def topic_partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """A topic's partitions, asking the broker when the client has not seen the topic yet."""
    found = consumer.partitions_for_topic(topic)
    if not found:
        await consumer._client.force_metadata_update()  # aiokafka has no public refresh
        found = consumer.partitions_for_topic(topic)
    return [TopicPartition(topic, p) for p in sorted(found or ())]
