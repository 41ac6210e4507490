"""Readiness that tells the truth about consumers: a group with lag that stopped moving is a fault.

A consumer can be connected, in its group and heartbeating while it makes no progress (a poison
record redelivered forever, a handler stuck on a dependency). Kafka and the database both answer,
so only the group's committed offsets show it. `ConsumerWatch` compares them with the end offsets
on each readiness check and remembers when each partition last moved; a partition is stalled when
it has lag and its committed offset has not moved for `stall_s`. Checks are bounded by a timeout
and cached briefly, so an orchestrator polling `/health/ready` never hangs it or loads the broker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from shared.kafka.broker import topic_partitions

MAX_LISTED_PARTITIONS = 6


@dataclass(frozen=True)
class Offsets:
    """One partition's offsets: where the log starts and ends, and the group's commit (or None)."""

    beginning: int
    end: int
    committed: int | None

    @property
    def lag(self) -> int:
        """Records the group has yet to process (from the log start if it never committed)."""
        return max(0, self.end - (self.beginning if self.committed is None else self.committed))


@dataclass(frozen=True)
class Stall:
    """A partition with lag whose committed offset has not moved since `since`."""

    group: str
    topic: str
    partition: int
    offsets: Offsets
    since: datetime
    for_s: float


@dataclass
class _Seen:
    committed: int | None
    since_mono: float
    since_wall: datetime


class StallTracker:
    """Remembers, per partition, since when it has had lag without its commit moving."""

    def __init__(
        self,
        *,
        stall_s: float,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._stall_s, self._clock, self._wall = stall_s, clock, wall
        self._seen: dict[tuple[str, str, int], _Seen] = {}

    def observe(self, *, group: str, offsets: Mapping[TopicPartition, Offsets]) -> list[Stall]:
        """Record one observation of a group; return its partitions stalled for `stall_s`."""
        now, wall = self._clock(), self._wall()
        stalls = []
        for tp, off in sorted(offsets.items(), key=lambda item: item[0]):
            key = (group, tp.topic, tp.partition)
            seen = self._seen.get(key)
            # The clock starts when lag is first seen with the commit where it is: an idle group
            # at the end whose commit is old must not look stalled the moment a record arrives.
            if seen is None or seen.committed != off.committed or off.lag == 0:
                self._seen[key] = _Seen(off.committed, now, wall)
                continue
            if now - seen.since_mono >= self._stall_s:
                stalls.append(
                    Stall(
                        group, tp.topic, tp.partition, off, seen.since_wall, now - seen.since_mono
                    )
                )
        return stalls


def describe(stalls: Sequence[Stall]) -> list[str]:
    """One reason per stalled group: which partitions, their lag and since when."""
    by_group: dict[str, list[Stall]] = {}
    for stall in stalls:
        by_group.setdefault(stall.group, []).append(stall)
    reasons = []
    for group, members in by_group.items():
        parts = [
            f"{s.topic}[{s.partition}] lag {s.offsets.lag} at "
            f"{'no commit' if s.offsets.committed is None else f'offset {s.offsets.committed}'}"
            f" since {s.since.isoformat(timespec='seconds')} ({s.for_s:.0f}s)"
            for s in members[:MAX_LISTED_PARTITIONS]
        ]
        more = len(members) - MAX_LISTED_PARTITIONS
        tail = f" and {more} more" if more > 0 else ""
        total = sum(s.offsets.lag for s in members)
        reasons.append(
            f"consumer group {group} stalled on {len(members)} partition(s), lag {total}: "
            + "; ".join(parts)
            + tail
        )
    return reasons


def subscribed_topics(broker: KafkaBroker, groups: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The topics each of these groups subscribes to on this broker (FastStream's subscribers)."""
    wanted = set(groups)
    found: dict[str, set[str]] = {group: set() for group in wanted}
    for subscriber in broker.subscribers:
        group = getattr(subscriber, "group_id", None)
        if group in wanted:
            found[group].update(getattr(subscriber, "topic_names", ()))
    return {group: tuple(sorted(topics)) for group, topics in found.items()}


class ConsumerWatch:
    """Asks the broker how far each group has got; reports partitions stalled with lag."""

    def __init__(
        self,
        *,
        bootstrap: str,
        stall_s: float,
        timeout_s: float = 2.0,
        cache_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bootstrap, self._timeout_s, self._cache_s = bootstrap, timeout_s, cache_s
        self._clock = clock
        self._tracker = StallTracker(stall_s=stall_s, clock=clock)
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()
        self._cached: tuple[float, list[str]] | None = None

    async def start(self) -> None:
        """Connect (no group of its own: this client only reads offsets)."""
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False
        )
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await self._consumer.start()
        await self._admin.start()

    async def stop(self) -> None:
        """Disconnect."""
        consumer, admin, self._consumer, self._admin = self._consumer, self._admin, None, None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()

    async def reasons(self, groups: Mapping[str, Sequence[str]]) -> list[str]:
        """Why the consumers are not healthy (empty when they are); cached for `cache_s`."""
        async with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < self._cache_s:
                return self._cached[1]
            try:
                async with asyncio.timeout(self._timeout_s):
                    answer = describe(await self._stalls(groups))
            except Exception as exc:  # noqa: BLE001 - readiness reports any failure as a reason
                answer = [f"consumer progress unknown: {type(exc).__name__} {exc}".strip()]
            self._cached = (self._clock(), answer)
            return answer

    async def _stalls(self, groups: Mapping[str, Sequence[str]]) -> list[Stall]:
        stalls: list[Stall] = []
        for group, topics in groups.items():
            offsets = await self.offsets(group=group, topics=topics)
            stalls.extend(self._tracker.observe(group=group, offsets=offsets))
        return stalls

    async def offsets(self, *, group: str, topics: Sequence[str]) -> dict[TopicPartition, Offsets]:
        """The partitions of the group's topics (all it committed if none named), with offsets."""
        if self._consumer is None or self._admin is None:
            raise RuntimeError("ConsumerWatch.start() first")
        # Only the topics it reads now: old commits on a topic it dropped would look stalled.
        parts = [tp for topic in topics for tp in await topic_partitions(self._consumer, topic)]
        if topics and not parts:
            return {}
        answer = await self._admin.list_consumer_group_offsets(group, partitions=parts or None)
        committed = {
            tp: meta.offset for tp, meta in answer.items() if meta is not None and meta.offset >= 0
        }
        every = parts or list(committed)
        if not every:
            return {}
        ends = await self._consumer.end_offsets(every)
        uncommitted = [tp for tp in every if tp not in committed]
        starts = await self._consumer.beginning_offsets(uncommitted) if uncommitted else {}
        return {
            tp: Offsets(beginning=starts.get(tp, 0), end=ends[tp], committed=committed.get(tp))
            for tp in every
        }
