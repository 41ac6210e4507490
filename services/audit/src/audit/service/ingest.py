"""Ledger ingest: each new event becomes one entry in its shard, plus the facts it carries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence

from audit.domain.ledger import Record, ShardLog, shard_name
from audit.domain.marks import MARK_PREFIX, MarkCause, mark_id, marked_data
from audit.domain.merkle import CompactRange, nodes_for_root
from audit.service.facts import facts_of
from audit.service.ports import DuplicateEvent, FactStore, LedgerStore
from audit.verify.checkpoint import ShardHead
from shared.aio import settle
from shared.kafka.consumer import Delivery, Received
from shared.phone import looks_like_phone

log = logging.getLogger(__name__)
MAX_EVENT_ID = 100
"""Longest event id kept as an entry's id (the envelope's own limit)."""


class LedgerIngest:
    """The batch handler of the ledger consumer (and of replay): idempotent by event id."""

    def __init__(
        self,
        *,
        ledger: LedgerStore,
        facts: FactStore,
        on_appended: Callable[[int], None] = lambda _: None,
    ) -> None:
        self._ledger = ledger
        self._facts = facts
        self._logs: dict[str, ShardLog] = {}
        self.on_appended = on_appended

    async def __call__(self, received: Sequence[Received]) -> None:
        """Append every record shard by shard and project the events' facts (all idempotent)."""
        by_shard: dict[str, list[Received]] = {}
        for r in received:
            by_shard.setdefault(
                shard_name(topic=r.origin.topic, partition=r.origin.partition), []
            ).append(r)
        deliveries = [
            Delivery(event=r.event, origin=r.origin, raw=r.raw)
            for r in received
            if r.event is not None
        ]
        # Shards are independent trees, and the facts are keyed by event id: write them all
        # concurrently, but let every write finish before a failure escapes, so a retry never
        # races a write still in flight (a retry then stores what is missing, nothing twice).
        # The shards start first: each hashes its entries, then compresses its chunk in a
        # worker thread while the facts are prepared here, so the facts (most of the batch's
        # documents) reach the database as soon as they are ready.
        results = await settle(
            *(self._append(shard, items) for shard, items in by_shard.items()),
            self._facts.add(facts_of(deliveries)),
        )
        self.on_appended(sum(r for r in results if isinstance(r, int)))

    async def _append(self, shard: str, items: list[Received]) -> int:
        """No read per batch: redeliveries are known by offset, republished ids by collision
        (then the record is a marked entry, so every record still has its place)."""
        duplicates: set[str] = set()
        for _ in range(len(items) + 1):  # each retry marks at least one more duplicate
            current = self._logs.get(shard) or await self.load(shard)
            todo = [r for r in items if not current.seen(r.origin.offset)]
            if not todo:
                return 0
            draft = current.fork()
            entries = [draft.append(record_of(shard, r, duplicates)) for r in todo]
            try:
                await self._ledger.append(entries)
            except DuplicateEvent as dup:
                self._logs.pop(shard, None)  # a prefix is stored: reload, skip the copy
                duplicates.add(dup.event_id)
                continue
            except Exception:
                # Another writer took the shard, or the store failed part-way: forget what we
                # believe and reload from the store on the next attempt.
                self._logs.pop(shard, None)
                raise
            self._logs[shard] = draft
            return len(entries)
        raise RuntimeError(f"could not append to {shard}")  # pragma: no cover - bounded loop

    async def load(self, shard: str) -> ShardLog:
        """Rebuild a shard's state from where its stored entries end and its frontier nodes."""
        tip = await self._ledger.tip(shard)
        wanted = nodes_for_root(tree_size=tip.size)
        nodes = await self._ledger.nodes(shard, wanted)
        tree = CompactRange.from_hashes(size=tip.size, hashes=[nodes[n] for n in wanted])
        self._logs[shard] = ShardLog(shard=shard, tree=tree, last_offset=tip.last_offset)
        return self._logs[shard]

    def heads(self) -> dict[str, ShardHead]:
        """The heads of the shards this instance writes, as stored (drafts are not included)."""
        return {
            s: ShardHead(shard=s, size=log_.size, root=log_.root())
            for s, log_ in self._logs.items()
            if log_.size > 0
        }

    def forget(self, shards: Iterable[str]) -> None:
        """Drop what is held of these shards (their partitions moved in a rebalance): another
        writer may append to them now, so the next append here reloads them from the store."""
        for shard in shards:
            self._logs.pop(shard, None)


def record_of(shard: str, received: Received, duplicates: Collection[str] = ()) -> Record:
    """The ledger record of any Kafka record: an event as its exact bytes (of a known type, or
    of an unknown type or version), else a marked entry (see audit.domain.marks)."""
    offset, raw, fault = received.origin.offset, received.raw, received.fault
    event_id = _keepable_id(received)
    if event_id is not None and event_id not in duplicates:
        return Record(event_id=event_id, shard=shard, offset=offset, data=raw)
    cause: MarkCause = "invalid"
    if event_id is not None:
        cause = "duplicate"
    elif fault is not None and fault.cause == "undecodable":
        cause = "undecodable"
    data = marked_data(shard=shard, offset=offset, cause=cause, raw=raw, event_id=event_id)
    return Record(
        event_id=mark_id(shard=shard, offset=offset), shard=shard, offset=offset, data=data
    )


def _keepable_id(received: Received) -> str | None:
    """The id under which the record's exact bytes may be kept, if they may: an event's id, or
    an unknown type's, when it looks like an id (never a phone number, nor a mark's: a
    producer naming its event `marked:<shard>@<offset>` would otherwise take the place of the
    mark of a later record, and that record's append would collide for good)."""
    fault = received.fault
    if received.event is not None:
        event_id: str | None = received.event.id
    elif fault is not None and fault.cause == "unknown-type":
        event_id = fault.event_id
    else:
        return None
    if event_id is None or not 0 < len(event_id) <= MAX_EVENT_ID:
        return None
    if event_id.startswith(MARK_PREFIX):
        return None
    # A parsed event's id passed the envelope's own phone check; an unknown type's did not.
    if received.event is None and looks_like_phone(event_id):
        return None
    return event_id
