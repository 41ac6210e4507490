"""Consumer path: parse, bounded retries with backoff, then a dead-letter record; never skip.

The offset moves only after the effect or the dead-letter record is durable: every subscriber
uses NACK_ON_ERROR, the one FastStream ack policy that redelivers a failed message (SERVERS.md),
and the pipeline only lets an exception escape when even the dead-letter publish failed.
Handlers must be idempotent by event id: their effect is one insert or upsert keyed by it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka.structs import ConsumerRecord

from shared.events.envelope import CloudEvent, EventData, InvalidEvent, parse_event
from shared.events.registry import REGISTRY
from shared.kafka.publisher import DurablePublisher
from shared.topics import dead_letter_topic

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 1000


class PermanentError(Exception):
    """Retrying cannot help (the event breaks a rule): dead-letter it at once."""


@dataclass(frozen=True)
class Origin:
    """Where a record came from, for ledgers and dead letters."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    timestamp_ms: int


@dataclass(frozen=True)
class Delivery:
    """One parsed event with its origin and the exact bytes received."""

    event: CloudEvent[Any]
    origin: Origin
    raw: bytes


Handler = Callable[[Delivery], Awaitable[None]]
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with exponential backoff."""

    attempts: int = 3
    backoff_s: float = 0.05
    max_backoff_s: float = 2.0

    def delay(self, attempt: int) -> float:
        """Pause after the given failed attempt (1-based)."""
        return float(min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))


class DeadLetterSink(Protocol):
    """Where records go that cannot be handled: the pipeline's one outgoing port."""

    async def send(
        self, *, record: ConsumerRecord[Any, Any], error: BaseException, attempts: int
    ) -> None:
        """Park the record durably with the cause, or raise."""


class DeadLetters:
    """Writes a failed record, unchanged, to its group's dead-letter topic with the cause."""

    def __init__(self, *, publisher: DurablePublisher, group_id: str) -> None:
        self._publisher = publisher
        self.group_id = group_id
        self.topic = dead_letter_topic(group_id).name

    async def send(
        self, *, record: ConsumerRecord[Any, Any], error: BaseException, attempts: int
    ) -> None:
        """Publish durably; raises PublishFailed if even that is impossible."""
        key = record.key if isinstance(record.key, bytes) else None
        headers = {
            "dlq-origin-topic": record.topic,
            "dlq-origin-partition": str(record.partition),
            "dlq-origin-offset": str(record.offset),
            "dlq-origin-key": base64.b64encode(key).decode() if key is not None else "",
            "dlq-group": self.group_id,
            "dlq-error-type": type(error).__name__,
            "dlq-error": str(error)[:MAX_ERROR_CHARS],
            "dlq-attempts": str(attempts),
            "dlq-failed-at": datetime.now(UTC).isoformat(),
        }
        await self._publisher.publish_raw(
            topic=self.topic, value=_value(record), key=key, headers=headers
        )
        log.warning(
            "dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "error_type": type(error).__name__,
                "attempts": attempts,
            },
        )


class EventPipeline:
    """Turns Kafka records into handler calls with retries and dead letters."""

    def __init__(
        self,
        *,
        dead_letters: DeadLetterSink,
        retry: RetryPolicy,
        accepts: frozenset[str] | None = None,
        registry: dict[str, type[EventData]] | None = None,
    ) -> None:
        self._dead_letters = dead_letters
        self._retry = retry
        self._accepts = accepts
        self._registry = registry if registry is not None else REGISTRY

    async def process_one(self, record: ConsumerRecord[Any, Any], handler: Handler) -> None:
        """Handle one record; dead-letter it if it is malformed or keeps failing."""
        delivery = await self._parse(record)
        if delivery is not None:
            await self._with_retries(delivery, lambda d: handler(d), record)

    async def process_batch(
        self, records: Sequence[ConsumerRecord[Any, Any]], handler: BatchHandler
    ) -> None:
        """Handle a batch in one call; on failure fall back to one-by-one with retries."""
        parsed = [await self._parse(record) for record in records]
        pairs = [(d, r) for d, r in zip(parsed, records, strict=True) if d is not None]
        if not pairs:
            return
        try:
            await handler([d for d, _ in pairs])
            return
        except Exception:
            log.warning("batch failed; retrying its events one by one", exc_info=True)
        for delivery, record in pairs:
            await self._with_retries(delivery, lambda d: handler([d]), record)

    async def _parse(self, record: ConsumerRecord[Any, Any]) -> Delivery | None:
        raw = _value(record)
        try:
            event = parse_event(raw, registry=self._registry)
        except InvalidEvent as exc:
            await self._dead_letters.send(record=record, error=exc, attempts=1)
            return None
        if self._accepts is not None and event.type not in self._accepts:
            return None
        origin = Origin(
            record.topic,
            record.partition,
            record.offset,
            record.key if isinstance(record.key, bytes) else None,
            int(record.timestamp),
        )
        return Delivery(event=event, origin=origin, raw=raw)

    async def _with_retries(
        self,
        delivery: Delivery,
        call: Callable[[Delivery], Awaitable[None]],
        record: ConsumerRecord[Any, Any],
    ) -> None:
        for attempt in range(1, self._retry.attempts + 1):
            try:
                await call(delivery)
                return
            except PermanentError as exc:
                await self._dead_letters.send(record=record, error=exc, attempts=attempt)
                return
            except Exception as exc:  # noqa: BLE001 - bounded retries, then dead letter
                if attempt == self._retry.attempts:
                    await self._dead_letters.send(record=record, error=exc, attempts=attempt)
                    return
                log.info(
                    "handler failed; retrying",
                    extra={"attempt": attempt, "event_id": delivery.event.id},
                )
                await asyncio.sleep(self._retry.delay(attempt))


def _value(record: ConsumerRecord[Any, Any]) -> bytes:
    value = record.value
    return value if isinstance(value, bytes) else b""
