"""The Kafka comparison reports an unreadable stored chunk as a finding, not a traceback."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

from audit.domain.ledger import Entry
from audit.service.mirror import compare_with_topics
from audit.service.ports import UnreadableEntries


class OneRecord:
    async def partitions(self, topics: Sequence[str]) -> list[tuple[str, int]]:
        return [(topics[0], 0)]

    async def read(
        self, topic: str, partition: int, *, batch: int = 500
    ) -> AsyncGenerator[list[Any]]:
        yield []


class Unreadable:
    async def _scan(self) -> AsyncIterator[Entry]:
        raise UnreadableEntries(7, "stored chunk at index 7 is malformed: bad _id or n")
        yield  # pragma: no cover - makes this an async generator

    def scan(self, shard: str) -> AsyncIterator[Entry]:
        return self._scan()


async def test_an_unreadable_shard_is_a_finding() -> None:
    report = await compare_with_topics(
        ledger=Unreadable(),  # type: ignore[arg-type]
        source=OneRecord(),  # type: ignore[arg-type]
        topics=["auth.events"],
    )
    assert not report.ok
    assert report.findings == [
        "auth.events/0: stored chunk at index 7 is malformed: bad _id or n; "
        "the comparison stops there for this shard"
    ]
