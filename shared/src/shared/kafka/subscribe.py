"""Registering subscribers: each names its group and ack policy, in a service's consumers.py.

Subscribing registers the group with its host (a service's `Runtime`), which creates the group's
dead-letter topic `<group>.dlq` with the others at start: no group exists without one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiokafka.abc import ConsumerRebalanceListener
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage

from shared.kafka.consumer import (
    BatchHandler,
    EventPipeline,
    Handler,
    MirrorHandler,
    RetryPolicy,
)
from shared.kafka.dead_letters import DeadLetters
from shared.kafka.publisher import DurablePublisher

# The only policy that redelivers a failed message: dead letters and retries happen inside the
# pipeline, so an error escapes only to hand a blocked record back (see shared.kafka.consumer).
ACK_POLICY = AckPolicy.NACK_ON_ERROR
MAX_POLL_INTERVAL_MS = 300_000
"""Kafka's default; a blocked record is handed back after `RetryPolicy.hold_s`, well before."""


class ConsumerHost(Protocol):
    """What subscribing needs: a service's `Runtime`, or a test's own."""

    @property
    def broker(self) -> KafkaBroker:
        """The app's one broker."""

    @property
    def publisher(self) -> DurablePublisher:
        """Durable publishing, for dead letters."""

    @property
    def retry(self) -> RetryPolicy:
        """Backoff for failures that are not a record's own."""

    @property
    def consumer_groups(self) -> list[str]:
        """Every group of the host; each gets its dead-letter topic at start."""


async def _raw_records(msg: StreamMessage[Any]) -> Any:
    """Keep the aiokafka record(s) as they came: the pipeline parses and needs the offsets."""
    return msg.raw_message


def _pipeline(
    host: ConsumerHost, *, group_id: str, accepts: frozenset[str] | None
) -> EventPipeline:
    if host.retry.hold_s * 1000 >= MAX_POLL_INTERVAL_MS / 2:
        raise ValueError("RetryPolicy.hold_s must stay well under max.poll.interval.ms")
    if group_id not in host.consumer_groups:
        host.consumer_groups.append(group_id)
    dead_letters = DeadLetters(publisher=host.publisher, group_id=group_id)
    return EventPipeline(dead_letters=dead_letters, retry=host.retry, accepts=accepts)


def subscribe(
    host: ConsumerHost,
    *topics: str,
    group_id: str,
    handler: Handler,
    accepts: frozenset[str] | None = None,
    title: str | None = None,
) -> None:
    """One event at a time, a commit after each (about 1.3k events/s: for low-volume flows)."""
    pipeline = _pipeline(host, group_id=group_id, accepts=accepts)

    @host.broker.subscriber(
        *topics,
        group_id=group_id,
        ack_policy=ACK_POLICY,
        auto_offset_reset="earliest",
        max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
        decoder=_raw_records,
        title=title or f"{group_id}:{handler.__name__}",
        description=_describe(accepts),
    )
    async def _consume(record: Any) -> None:
        await pipeline.process_one(record, handler)


def subscribe_batch(
    host: ConsumerHost,
    *topics: str,
    group_id: str,
    handler: BatchHandler,
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
    pipeline = _pipeline(host, group_id=group_id, accepts=accepts)

    @_batches(
        host,
        topics,
        group_id=group_id,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        listener=listener,
        title=title or f"{group_id}:{handler.__name__}",
        description=_describe(accepts),
    )
    async def _consume(records: Any) -> None:
        await pipeline.process_batch(tuple(records), handler)


def subscribe_mirror(
    host: ConsumerHost,
    *topics: str,
    group_id: str,
    handler: MirrorHandler,
    max_records: int = 1000,
    batch_timeout_ms: int = 50,
    listener: ConsumerRebalanceListener | None = None,
    title: str | None = None,
) -> None:
    """Batches of every record, parsed or not (`Received`), one commit per batch: for a consumer
    that must account for each record of its partitions (the audit ledger)."""
    pipeline = _pipeline(host, group_id=group_id, accepts=None)

    @_batches(
        host,
        topics,
        group_id=group_id,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        listener=listener,
        title=title or f"{group_id}:{handler.__name__}",
        description=_describe(None, mirror=True),
    )
    async def _consume(records: Any) -> None:
        await pipeline.process_mirror(tuple(records), handler)


def _batches(
    host: ConsumerHost,
    topics: tuple[str, ...],
    *,
    group_id: str,
    max_records: int,
    batch_timeout_ms: int,
    listener: ConsumerRebalanceListener | None,
    title: str,
    description: str,
) -> Callable[[Callable[[Any], Awaitable[None]]], Any]:
    """The batch subscriber decorator both batch paths use (group, ack policy, raw records)."""
    return host.broker.subscriber(
        *topics,
        group_id=group_id,
        ack_policy=ACK_POLICY,
        auto_offset_reset="earliest",
        max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        listener=listener,
        decoder=_raw_records,
        title=title,
        description=description,
    )


def _describe(accepts: frozenset[str] | None, *, mirror: bool = False) -> str:
    kinds = ", ".join(sorted(accepts)) if accepts else "every type"
    what = "every record, parsed or not" if mirror else f"CloudEvents ({kinds})"
    return (
        f"Consumes {what}; ack policy NACK_ON_ERROR; a record at fault goes to the group's "
        "dead-letter topic `<group>.dlq`; any other failure is retried with backoff (blocks)."
    )
