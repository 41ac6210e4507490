"""The check's view of the apps read model: each app read at most once per `fresh_s`.

The check needs the app's current terms version on every call, and reading the app's document
each time was a third of the check's database work (bench D2). This keeps each app for
`fresh_s` after it was read, with two rules that keep it current:
- **Write-through.** The auth-events consumer saves apps through `writer()` (which reads the
  document itself, never this memory, as the consumer's idempotency needs), so in the process
  that consumes a terms change the check sees the new terms the moment the document is saved
  (the compose and native stacks run one consent process: there, nothing is ever stale).
  A read that began before a save never replaces what the save put here.
- **Bounded elsewhere.** Another consent process learns of a terms change when its copy is older
  than `fresh_s` (`CONSENT_APP_FRESH_S`, default 0.25 s; 0 reads the document on every check).
  The invalidation versions the consumer writes next are read by every check, never kept here.

Concurrent misses of one app share one read. Unknown apps are remembered too (as unknown), and
the memory is bounded (`MAX_APPS`, then it starts over).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from consent.domain.apps import App
from consent.service.ports import AppStore

MAX_APPS = 10_000


@dataclass
class FreshApps:
    """An `AppStore` that remembers each app for `fresh_s` seconds (see the module docstring)."""

    store: AppStore
    fresh_s: float
    clock: Callable[[], float] = time.monotonic
    _known: dict[str, tuple[float, App | None]] = field(default_factory=dict)
    _saves: dict[str, int] = field(default_factory=dict)  # app id -> saves seen, for stale reads
    _reading: dict[str, asyncio.Future[App | None]] = field(default_factory=dict)

    async def get(self, app_id: str) -> App | None:
        """The app as read at most `fresh_s` ago (or as this process last saved it)."""
        if self.fresh_s <= 0:
            return await self.store.get(app_id)
        known = self._known.get(app_id)
        if known is not None and self.clock() - known[0] < self.fresh_s:
            return known[1]
        reading = self._reading.get(app_id)
        if reading is None:
            reading = asyncio.ensure_future(self._read(app_id))
            self._reading[app_id] = reading
            reading.add_done_callback(functools.partial(self._done, app_id))
        return await asyncio.shield(reading)

    def _done(self, app_id: str, reading: asyncio.Future[App | None]) -> None:
        if self._reading.get(app_id) is reading:  # a save may have started a newer read since
            del self._reading[app_id]

    def writer(self) -> AppStore:
        """The store for the apps' one writer: reads the document, saves through this memory."""
        return _Writer(self)

    async def save(self, app: App) -> None:
        """Save the document, then remember what was saved. From the moment the save begins,
        nothing older is handed out: the copy is forgotten, reads under way are not joined, and
        a save that fails leaves nothing remembered (the next check reads the document)."""
        self._saves[app.app_id] = self._saves.get(app.app_id, 0) + 1
        self._known.pop(app.app_id, None)
        self._reading.pop(app.app_id, None)
        await self.store.save(app)
        self._saves[app.app_id] += 1
        self._remember(app.app_id, app)

    async def _read(self, app_id: str) -> App | None:
        saves, read_at = self._saves.get(app_id, 0), self.clock()
        app = await self.store.get(app_id)
        if self._saves.get(app_id, 0) == saves:  # no save since: this read is the newest
            self._remember(app_id, app, at=read_at)
            return app
        saved = self._known.get(app_id)  # a save came meanwhile: what it saved, once it has
        return saved[1] if saved is not None else app

    def _remember(self, app_id: str, app: App | None, *, at: float | None = None) -> None:
        if len(self._known) >= MAX_APPS and app_id not in self._known:
            self._known.clear()
        self._known[app_id] = (self.clock() if at is None else at, app)


@dataclass(frozen=True)
class _Writer:
    fresh: FreshApps

    async def get(self, app_id: str) -> App | None:
        return await self.fresh.store.get(app_id)

    async def save(self, app: App) -> None:
        await self.fresh.save(app)
