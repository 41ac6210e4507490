"""The check's memory of the apps (`FreshApps`), over a counted in-memory store."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from consent.domain.apps import App
from consent.domain.model import Terms
from consent.service import fresh_apps
from consent.service.fresh_apps import FreshApps


def app(app_id: str = "app-1", *, terms: str = "t1") -> App:
    return App(app_id, app_id, ("user.info.basic",), Terms(terms, (), 30), "https://t", None)


@dataclass
class CountedApps:
    """The apps read model as a dict; counts reads, and can hold a read until released."""

    docs: dict[str, App] = field(default_factory=dict)
    reads: int = 0
    gate: asyncio.Event | None = None
    reading: asyncio.Event = field(default_factory=asyncio.Event)  # set once a read began

    async def get(self, app_id: str) -> App | None:
        self.reads += 1
        self.reading.set()
        found = self.docs.get(app_id)
        if self.gate is not None:
            await self.gate.wait()
        return found

    async def save(self, a: App) -> None:
        self.docs[a.app_id] = a


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_an_app_is_read_once_per_window() -> None:
    store, clock = CountedApps({"app-1": app()}), Clock()
    fresh = FreshApps(store, fresh_s=0.25, clock=clock)
    for _ in range(10):
        assert await fresh.get("app-1") == app()
    assert store.reads == 1
    clock.now += 0.25
    store.docs["app-1"] = app(terms="t2")  # another process's consumer saved new terms
    assert (await fresh.get("app-1")).terms.version == "t2"  # type: ignore[union-attr]
    assert store.reads == 2


async def test_the_writer_reads_the_document_and_its_saves_are_seen_at_once() -> None:
    store, clock = CountedApps({"app-1": app()}), Clock()
    fresh = FreshApps(store, fresh_s=60.0, clock=clock)
    writer = fresh.writer()
    assert await fresh.get("app-1") == app()
    store.docs["app-1"] = app(terms="t2")
    assert (await writer.get("app-1")).terms.version == "t2"  # type: ignore[union-attr]
    await writer.save(app(terms="t3"))
    assert (await fresh.get("app-1")).terms.version == "t3"  # type: ignore[union-attr]
    assert store.docs["app-1"].terms.version == "t3"


async def test_a_read_begun_before_a_save_does_not_replace_it() -> None:
    store, clock = CountedApps({"app-1": app()}), Clock()
    fresh = FreshApps(store, fresh_s=60.0, clock=clock)
    store.gate = asyncio.Event()
    slow = asyncio.create_task(fresh.get("app-1"))  # reads t1, held
    await store.reading.wait()
    store.gate.set()
    store.gate = None
    await fresh.writer().save(app(terms="t2"))
    assert (await slow).terms.version == "t2"  # type: ignore[union-attr]  # the save came first
    assert (await fresh.get("app-1")).terms.version == "t2"  # type: ignore[union-attr]


async def test_concurrent_misses_share_one_read() -> None:
    store = CountedApps({"app-1": app()}, gate=asyncio.Event())
    fresh = FreshApps(store, fresh_s=1.0)
    waiting = [asyncio.create_task(fresh.get("app-1")) for _ in range(32)]
    await store.reading.wait()
    for _ in range(3):
        await asyncio.sleep(0)
    store.gate.set()  # type: ignore[union-attr]
    assert all(a == app() for a in await asyncio.gather(*waiting))
    assert store.reads == 1


async def test_unknown_apps_are_remembered_and_the_memory_is_bounded() -> None:
    store = CountedApps()
    fresh = FreshApps(store, fresh_s=60.0)
    assert await fresh.get("nope") is None
    assert await fresh.get("nope") is None
    assert store.reads == 1
    for n in range(fresh_apps.MAX_APPS + 5):
        await fresh.get(f"other-{n}")
    assert len(fresh._known) <= fresh_apps.MAX_APPS


async def test_zero_reads_every_time() -> None:
    store = CountedApps({"app-1": app()})
    fresh = FreshApps(store, fresh_s=0)
    for _ in range(3):
        await fresh.get("app-1")
    assert store.reads == 3


async def test_a_check_after_a_save_never_gets_an_older_read() -> None:
    """A read that began before a save is not handed to a check that starts after it, even
    when the saved copy has already expired (or the memory started over)."""
    store, clock = CountedApps({"app-1": app()}), Clock()
    fresh = FreshApps(store, fresh_s=0.25, clock=clock)
    store.gate = asyncio.Event()
    early = asyncio.create_task(fresh.get("app-1"))  # reads t1, held
    await store.reading.wait()
    await fresh.writer().save(app(terms="t2"))
    clock.now += 1.0  # the saved copy is stale too: the next check must read again
    late = asyncio.create_task(fresh.get("app-1"))
    await asyncio.sleep(0)
    store.gate.set()
    assert (await early).terms.version == "t2"  # type: ignore[union-attr]  # what the save put
    assert (await late).terms.version == "t2"  # type: ignore[union-attr]


async def test_a_failed_save_leaves_nothing_remembered() -> None:
    class Failing(CountedApps):
        async def save(self, a: App) -> None:
            raise ConnectionError("the database went away")

    store, clock = Failing({"app-1": app()}), Clock()
    fresh = FreshApps(store, fresh_s=60.0, clock=clock)
    assert await fresh.get("app-1") == app()
    with pytest.raises(ConnectionError):
        await fresh.writer().save(app(terms="t2"))
    store.docs["app-1"] = app(terms="t2")  # the write was applied after all
    assert (await fresh.get("app-1")).terms.version == "t2"  # type: ignore[union-attr]
    assert store.reads == 2
