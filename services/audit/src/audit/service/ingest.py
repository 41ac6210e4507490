"""Ledger ingest: each new event becomes one entry in its shard, plus the facts it carries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from audit.domain.ledger import Entry, Record, ShardLog, holders, node_map, shard_name
from audit.domain.merkle import CompactRange, nodes_for_root
from audit.domain.verdict import ConsentFact, ConsentKind, TermsFact
from audit.service.ports import ConsentRow, Facts, FactStore, LedgerStore, TermsRow, TransferRow
from shared.events.auth import AppRegistered, AppTermsUpdated
from shared.events.consent import (
    ConsentGranted,
    ConsentInvalidated,
    ConsentRenewed,
    ConsentRevoked,
)
from shared.events.transfer import TransferRecorded
from shared.kafka.consumer import Delivery
from shared.topics import AUTH_EVENTS, CONSENT_EVENTS, SOUND_EVENTS, TRANSFER_EVENTS

log = logging.getLogger(__name__)
LEDGER_TOPICS = (AUTH_EVENTS, CONSENT_EVENTS, SOUND_EVENTS, TRANSFER_EVENTS)
"""Every domain topic; the audit's own checkpoints and violations are not ledger entries."""
_KINDS: dict[type[Any], ConsentKind] = {
    ConsentGranted: "granted",
    ConsentRenewed: "renewed",
    ConsentRevoked: "revoked",
    ConsentInvalidated: "invalidated",
}


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
        self._on_appended = on_appended

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        """Append the new events shard by shard, then project their facts."""
        existing = await self._ledger.existing_ids([d.event.id for d in deliveries])
        fresh: dict[str, list[Delivery]] = {}
        for d in deliveries:
            if d.event.id not in existing:
                existing.add(d.event.id)  # the same id twice in one batch: first one wins
                shard = shard_name(topic=d.origin.topic, partition=d.origin.partition)
                fresh.setdefault(shard, []).append(d)
        for shard, items in fresh.items():
            await self._append(shard, items)
        await self._facts.add(facts_of(deliveries))
        self._on_appended(sum(len(items) for items in fresh.values()))

    async def _append(self, shard: str, items: list[Delivery]) -> None:
        log_ = self._logs.get(shard) or await self.load(shard)
        entries = [log_.append(_record(shard, d)) for d in items]
        try:
            await self._ledger.append(entries)
        except Exception:
            # Another writer took the shard, or the store failed part-way: forget what we
            # believe and reload from the store on the next attempt.
            self._logs.pop(shard, None)
            raise

    async def load(self, shard: str) -> ShardLog:
        """Rebuild a shard's compact range from the stored entries that hold its nodes."""
        size = await self._ledger.size(shard)
        wanted = nodes_for_root(tree_size=size)
        entries: dict[int, Entry] = await self._ledger.entries_at(shard, holders(wanted))
        nodes = node_map(wanted, entries)
        tree = CompactRange.from_hashes(size=size, hashes=[nodes[n] for n in wanted])
        self._logs[shard] = ShardLog(shard=shard, tree=tree)
        return self._logs[shard]


def _record(shard: str, delivery: Delivery) -> Record:
    event = delivery.event
    return Record(
        event_id=event.id,
        shard=shard,
        offset=delivery.origin.offset,
        data=delivery.raw,
        type=event.type,
        subject=event.subject,
        time=event.time,
    )


def facts_of(deliveries: Sequence[Delivery]) -> Facts:
    """The consent, terms and transfer facts carried by a batch of events."""
    facts = Facts(consents=[], terms=[], transfers=[])
    for delivery in deliveries:
        event, data = delivery.event, delivery.event.data
        kind = _KINDS.get(type(data))
        if kind is not None:
            facts.consents.append(
                ConsentRow(
                    event.id, data.user_key, data.app_id, _consent_fact(kind, data, event.time)
                )
            )
        elif isinstance(data, AppRegistered | AppTermsUpdated):
            facts.terms.append(
                TermsRow(
                    event.id,
                    data.app_id,
                    TermsFact(terms_version=data.terms_version, at=event.time),
                )
            )
        elif isinstance(data, TransferRecorded):
            facts.transfers.append(
                TransferRow(
                    event_id=event.id, data=data.model_dump(mode="json"), at=data.released_at
                )
            )
    return facts


def _consent_fact(kind: ConsentKind, data: Any, at: datetime) -> ConsentFact:
    return ConsentFact(
        consent_id=data.consent_id,
        version=data.version,
        kind=kind,
        at=at,
        scopes=frozenset(getattr(data, "scopes", ())),
        terms_version=getattr(data, "terms_version", None),
    )
