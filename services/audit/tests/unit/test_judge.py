"""The judge over pending pages: a transfer still waiting for the ledger keeps its page."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.domain.verdict import ConsentFact, TermsFact, Verdict
from audit.service.judge import Judge
from audit.service.ports import PendingPage, TransferRow

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def transfer(event_id: str, user: str) -> TransferRow:
    data = {
        "transfer_id": f"tr_{event_id}",
        "user_key": user,
        "app_id": "app_1",
        "consent_id": "c1",
        "scopes_used": ["user.info.basic"],
        "terms_version": "t1",
    }
    return TransferRow(event_id=event_id, data=data, at=NOW - timedelta(seconds=10))


class Pages:
    """The judge's side of the fact store: pending pages, no consent for anyone."""

    def __init__(self, pages: list[PendingPage]) -> None:
        self.pages = pages
        self.verdicts: dict[str, Verdict] = {}

    async def due(
        self, *, now: datetime, limit: int, judged: Collection[str] = frozenset()
    ) -> list[PendingPage]:
        return list(self.pages)

    async def timelines(
        self, *, user_keys: Sequence[str], app_ids: Sequence[str]
    ) -> tuple[dict[tuple[str, str], list[ConsentFact]], dict[str, list[TermsFact]]]:
        return {}, {}

    async def record_verdicts(self, judged: Sequence[tuple[TransferRow, Verdict]]) -> None:
        for t, verdict in judged:
            self.verdicts.setdefault(t.event_id, verdict)

    async def forget_pending(self, page_id: str) -> None:
        self.pages = [p for p in self.pages if p.page_id != page_id]


class Published:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def publish(self, event: Any, *, traceparent: str | None = None) -> None:
        self.events.append(event)


class WaitingFor(Judge):
    """A judge whose ledger has not yet stored what some users' transfers depend on."""

    lagging: set[str]

    def _complete(self, t: TransferRow) -> bool:
        return t.data["user_key"] not in self.lagging


async def test_a_page_stays_until_each_of_its_transfers_is_judged_and_violations_go_once() -> None:
    a, b, c = transfer("e1", "alice"), transfer("e2", "bob"), transfer("e3", "alice")
    store, published = Pages([PendingPage("p1", [a, b]), PendingPage("p2", [c])]), Published()
    judge = WaitingFor(facts=store, publisher=published)  # type: ignore[arg-type]
    judge.lagging = {"bob"}
    assert await judge.run_once() == 2 + 1  # a and c judged; p2 done
    assert set(store.verdicts) == {"e1", "e3"}
    assert [p.page_id for p in store.pages] == ["p1"]
    assert await judge.run_once() == 0  # a is not judged (nor published) again
    assert len(published.events) == 2
    judge.lagging = set()
    assert await judge.run_once() == 1 + 1  # b judged; p1 done
    assert store.pages == []
    assert set(store.verdicts) == {"e1", "e2", "e3"}
    assert [e.data.transfer_id for e in published.events] == ["tr_e1", "tr_e3", "tr_e2"]
    assert all(not v.covered and v.reason == "no_consent" for v in store.verdicts.values())


async def test_a_transfer_in_two_pages_gets_one_verdict_and_one_violation() -> None:
    a = transfer("e1", "alice")
    store, published = Pages([PendingPage("p1", [a]), PendingPage("p2", [a])]), Published()
    judge = Judge(facts=store, publisher=published)  # type: ignore[arg-type]
    assert await judge.run_once() == 1 + 2  # one transfer, two pages
    assert len(published.events) == 1
    assert store.pages == []


async def test_a_transfer_judged_in_a_finished_page_is_not_published_again_from_another() -> None:
    a, b = transfer("e1", "alice"), transfer("e2", "bob")
    store, published = Pages([PendingPage("p1", [a]), PendingPage("p2", [a, b])]), Published()
    judge = WaitingFor(facts=store, publisher=published)  # type: ignore[arg-type]
    judge.lagging = {"bob"}
    await judge.run_once()  # a judged, p1 done, p2 waits for b
    await judge.run_once()
    assert [p.page_id for p in store.pages] == ["p2"]
    assert [e.data.transfer_id for e in published.events] == ["tr_e1"]
