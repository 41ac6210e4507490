"""Consumer path: a record's own faults go to the dead-letter topic; anything else blocks.

Two kinds of failure, never mixed up:
- **The record is at fault**: its bytes do not decode or validate (whatever the exception:
  `parse_event` turns every one into `InvalidEvent`), or the handler raised `PermanentError`
  (it breaks a rule). It goes to `<group>.dlq` with the cause, and the partition flows on.
- **Anything else** (the database away, a timeout, the broker, a bug): the record is not at
  fault, so it must not be parked, which for the ledger would be a hole for good. It is retried
  with capped exponential backoff for as long as the failure lasts. A record never holds the
  poll loop longer than `RetryPolicy.hold_s` (well under `max.poll.interval.ms`): then it is
  handed back (NACK: FastStream seeks the partition back to it), the consumer polls, stays in
  its group and gets the same record again, and the backoff goes on where it was.

The offset moves only after the effect or the dead letter is durable: every subscriber uses
NACK_ON_ERROR, the one FastStream ack policy that redelivers (SERVERS.md). Handlers must be
idempotent by event id: their effect is one insert or upsert keyed by it. A failing batch is
retried whole; it is split (bisected) only to isolate the records a handler rejects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka.structs import ConsumerRecord

from shared.events.envelope import CloudEvent, EventData, InvalidEvent, parse_event
from shared.events.registry import REGISTRY
from shared.kafka.dead_letters import DeadLetterSink

log = logging.getLogger(__name__)
PARKED_MEMORY = 10_000


class PermanentError(Exception):
    """The handler's word that the record breaks a rule: retrying cannot help, dead-letter it."""


class Blocked(RuntimeError):
    """A failure that is not the record's own outlasted `hold_s`: hand the record back to Kafka
    (it is redelivered after the next poll) and go on retrying."""


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


@dataclass(frozen=True)
class Received:
    """Any record, parsed or not: for consumers that account for every record (the ledger)."""

    origin: Origin
    raw: bytes
    event: CloudEvent[Any] | None
    """The event, when the bytes are one of a known type."""
    fault: InvalidEvent | None
    """Why they are not (`fault.cause`), when `event` is None."""


Handler = Callable[[Delivery], Awaitable[None]]
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]
MirrorHandler = Callable[[Sequence[Received]], Awaitable[None]]
T = TypeVar("T", Delivery, Received)


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff for failures that are not the record's, and how long one
    record may hold the poll loop before it is handed back."""

    backoff_s: float = 0.05
    max_backoff_s: float = 5.0
    hold_s: float = 30.0

    def delay(self, attempt: int) -> float:
        """Pause after the given failed attempt (1-based)."""
        return float(min(self.max_backoff_s, self.backoff_s * 2 ** min(attempt - 1, 60)))


def origin_of(record: ConsumerRecord[Any, Any]) -> Origin:
    """The origin of an aiokafka record."""
    key = record.key if isinstance(record.key, bytes) else None
    return Origin(record.topic, record.partition, record.offset, key, int(record.timestamp))


def value_of(record: ConsumerRecord[Any, Any]) -> bytes:
    """The record's bytes (a tombstone's are empty)."""
    return record.value if isinstance(record.value, bytes) else b""


def receive(
    record: ConsumerRecord[Any, Any], *, registry: dict[str, type[EventData]] = REGISTRY
) -> Received:
    """Any record as a mirror consumer sees it: the event, or why the bytes are not one."""
    raw = value_of(record)
    try:
        event = parse_event(raw, registry=registry)
    except InvalidEvent as fault:
        return Received(origin=origin_of(record), raw=raw, event=None, fault=fault)
    return Received(origin=origin_of(record), raw=raw, event=event, fault=None)


@dataclass(frozen=True)
class _Item(Generic[T]):
    record: ConsumerRecord[Any, Any]
    delivery: T


class EventPipeline:
    """Turns Kafka records into handler calls: dead letters for faulty records, retries else."""

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
        self._parked: dict[tuple[str, int, int], None] = {}
        """Records this instance dead-lettered lately (a redelivered batch parks them once)."""
        self._failures: dict[tuple[str, int, int], int] = {}
        """Failed attempts so far, by the first record of what failed (kept across a hand-back,
        so the backoff goes on growing); dropped on success."""

    async def process_one(self, record: ConsumerRecord[Any, Any], handler: Handler) -> None:
        """Handle one record: dead-letter it if it is at fault, retry while anything else fails."""
        items = [_Item(record, d) for d in [await self._parse(record)] if d is not None]
        await self._handle(items, lambda ds: handler(ds[0]))

    async def process_batch(
        self, records: Sequence[ConsumerRecord[Any, Any]], handler: BatchHandler
    ) -> None:
        """Handle a batch in one call; retried whole, bisected only around rejected records."""
        parsed = [(r, await self._parse(r)) for r in records]
        await self._handle([_Item(r, d) for r, d in parsed if d is not None], handler)

    async def process_mirror(
        self, records: Sequence[ConsumerRecord[Any, Any]], handler: MirrorHandler
    ) -> None:
        """Hand every record to the handler, parsed or not; those that do not decode or validate
        are also dead-lettered (their bytes, for the operator), unknown types are not."""
        items = [_Item(r, await self._receive(r)) for r in records]
        await self._handle(items, handler)

    async def _parse(self, record: ConsumerRecord[Any, Any]) -> Delivery | None:
        raw = value_of(record)
        try:
            event = parse_event(raw, registry=self._registry)
        except InvalidEvent as fault:
            if fault.cause == "unknown-type" and not self._wants(fault.event_type):
                return None
            await self._park(record, fault, fault.cause)
            return None
        if self._accepts is not None and event.type not in self._accepts:
            return None
        return Delivery(event=event, origin=origin_of(record), raw=raw)

    def _wants(self, event_type: str | None) -> bool:
        """Would this consumer want an unknown type? Yes for every-type consumers, and for a
        version of a type it accepts (`consent.revoked.v2` when it takes `.v1`)."""
        if self._accepts is None:
            return True
        family = (event_type or "").rpartition(".")[0]
        return any(t.rpartition(".")[0] == family for t in self._accepts)

    async def _receive(self, record: ConsumerRecord[Any, Any]) -> Received:
        received = receive(record, registry=self._registry)
        if received.fault is not None and received.fault.cause != "unknown-type":
            await self._park(record, received.fault, received.fault.cause)
        return received

    async def _park(
        self, record: ConsumerRecord[Any, Any], error: BaseException, cause: Any
    ) -> None:
        """Dead-letter the record; a failure to do so is not its fault: retry, then block."""
        where = (record.topic, record.partition, record.offset)
        if where in self._parked:
            return

        async def send(_: Sequence[Any]) -> None:
            await self._dead_letters.send(record=record, error=error, cause=cause, attempts=1)

        await self._until_done([_Item(record, None)], send)
        self._parked[where] = None
        if len(self._parked) > PARKED_MEMORY:
            del self._parked[next(iter(self._parked))]

    async def _handle(self, items: Sequence[_Item[Any]], call: Callable[..., Any]) -> None:
        """Call with every delivery; on PermanentError split in halves until the rejected
        records are alone, and dead-letter those."""
        if not items:
            return
        try:
            await self._until_done(items, call)
        except PermanentError as exc:
            if len(items) == 1:
                await self._park(items[0].record, exc, "rejected")
                return
            middle = len(items) // 2
            await self._handle(items[:middle], call)
            await self._handle(items[middle:], call)

    async def _until_done(self, items: Sequence[_Item[Any]], call: Callable[..., Any]) -> None:
        """Retry while the failure is not the records' own; hand back after `hold_s`."""
        first = items[0].record
        key = (first.topic, first.partition, first.offset)
        held_since = time.monotonic()
        while True:
            try:
                await call([i.delivery for i in items])
            except PermanentError:
                self._failures.pop(key, None)
                raise
            except Exception as exc:  # not the record's fault: never dead-letter it
                attempt = self._failures.get(key, 0) + 1
                self._failures[key] = attempt
                _log_failure(exc, key=key, attempt=attempt, records=len(items))
                if time.monotonic() - held_since >= self._retry.hold_s:
                    raise Blocked(f"{key[0]}/{key[1]} at offset {key[2]}: {exc!r}") from exc
                await asyncio.sleep(self._retry.delay(attempt))
                continue
            self._failures.pop(key, None)
            return


def _log_failure(
    exc: BaseException, *, key: tuple[str, int, int], attempt: int, records: int
) -> None:
    """One line a failure, a traceback on the first and then every 10th (not 50 a second)."""
    log.warning(
        "consumer blocked: retrying",
        exc_info=exc if attempt % 10 == 1 else None,
        extra={
            "topic": key[0],
            "partition": key[1],
            "offset": key[2],
            "attempt": attempt,
            "records": records,
            "error_type": type(exc).__name__,
        },
    )
