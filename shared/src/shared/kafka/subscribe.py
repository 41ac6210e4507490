"""Registering subscribers: each names its group and ack policy, in a service's consumers.py."""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRebalanceListener
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage

from shared.kafka.consumer import BatchHandler, DeadLetters, EventPipeline, Handler, RetryPolicy
from shared.kafka.publisher import DurablePublisher

# The only policy that redelivers a failed message: retries and the dead-letter publish happen
# inside the pipeline, so an error escapes only when the record could not be parked anywhere.
ACK_POLICY = AckPolicy.NACK_ON_ERROR


async def _raw_records(msg: StreamMessage[Any]) -> Any:
    """Keep the aiokafka record(s) as they came: the pipeline parses and needs the offsets."""
    return msg.raw_message


def _pipeline(
    *,
    publisher: DurablePublisher,
    group_id: str,
    retry: RetryPolicy,
    accepts: frozenset[str] | None,
) -> EventPipeline:
    dead_letters = DeadLetters(publisher=publisher, group_id=group_id)
    return EventPipeline(dead_letters=dead_letters, retry=retry, accepts=accepts)


def subscribe(
    broker: KafkaBroker,
    *topics: str,
    group_id: str,
    handler: Handler,
    publisher: DurablePublisher,
    retry: RetryPolicy,
    accepts: frozenset[str] | None = None,
    title: str | None = None,
) -> None:
    """One event at a time, a commit after each (about 1.3k events/s: for low-volume flows)."""
    pipeline = _pipeline(publisher=publisher, group_id=group_id, retry=retry, accepts=accepts)

    @broker.subscriber(
        *topics,
        group_id=group_id,
        ack_policy=ACK_POLICY,
        auto_offset_reset="earliest",
        decoder=_raw_records,
        title=title or f"{group_id}:{handler.__name__}",
        description=_describe(accepts),
    )
    async def _consume(record: Any) -> None:
        await pipeline.process_one(record, handler)


def subscribe_batch(
    broker: KafkaBroker,
    *topics: str,
    group_id: str,
    handler: BatchHandler,
    publisher: DurablePublisher,
    retry: RetryPolicy,
    accepts: frozenset[str] | None = None,
    max_records: int = 1000,
    batch_timeout_ms: int = 50,
    title: str | None = None,
    listener: ConsumerRebalanceListener | None = None,
) -> None:
    """Batches of up to `max_records`, one commit per batch: for high-volume consumers.

    `listener` hears the group's partition revocations and assignments (e.g. to drop the
    state of partitions another member now owns).
    """
    pipeline = _pipeline(publisher=publisher, group_id=group_id, retry=retry, accepts=accepts)

    @broker.subscriber(
        *topics,
        group_id=group_id,
        ack_policy=ACK_POLICY,
        auto_offset_reset="earliest",
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        listener=listener,
        decoder=_raw_records,
        title=title or f"{group_id}:{handler.__name__}",
        description=_describe(accepts),
    )
    async def _consume(records: Any) -> None:
        await pipeline.process_batch(tuple(records), handler)


def _describe(accepts: frozenset[str] | None) -> str:
    kinds = ", ".join(sorted(accepts)) if accepts else "every known type"
    return (
        f"Consumes CloudEvents ({kinds}); ack policy NACK_ON_ERROR; bounded retries, then "
        "the group's dead-letter topic `<group>.dlq`."
    )
