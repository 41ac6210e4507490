"""Replay: consent state rebuilt from the consent events into a fresh store.

Each version event is turned back into its version (`wire.from_event`, from the version before
it, which the rebuilt store already holds: one user's events share a partition, in order) and
stored as the live service stores it: the version with the event's exact bytes, published,
and the pair's head. A record seen twice collides on its version's `_id` and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field

from consent.service.ports import ConsentStore, VersionConflict
from consent.service.wire import VERSION_EVENTS, from_event
from shared.events import InvalidEvent, parse


@dataclass
class ReplayReport:
    """What a replay read and rebuilt."""

    records: int = 0
    versions: int = 0
    other_events: int = 0
    not_events: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


async def rebuild(*, batches: AsyncIterable[Sequence[bytes]], store: ConsentStore) -> ReplayReport:
    """Apply every record of the topic (all partitions), in each partition's order."""
    report, started = ReplayReport(), time.perf_counter()
    async for batch in batches:
        for raw in batch:
            report.records += 1
            await _apply(raw, store=store, report=report)
    report.seconds = time.perf_counter() - started
    return report


async def _apply(raw: bytes, *, store: ConsentStore, report: ReplayReport) -> None:
    try:
        event = parse(raw)
    except InvalidEvent:
        report.not_events += 1  # someone else's bytes on the topic: not consent state
        return
    if not isinstance(event.data, VERSION_EVENTS):
        report.other_events += 1  # deletion requests and outcomes are not consent state
        return
    data = event.data
    previous = await store.get(data.consent_id, data.version - 1) if data.version > 1 else None
    try:
        consent = from_event(event, previous.consent if previous else None)
    except ValueError as exc:
        report.problems.append(str(exc))
        return
    try:
        await store.insert(consent, event=raw)
    except VersionConflict:
        return  # a record seen again (the producer retried, or a repair republished it)
    await store.settle(consent)
    report.versions += 1
