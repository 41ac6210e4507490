"""The app registry: developers register and change apps; the OAuth server reads them.

Every change follows one order, so that a change is visible only once its event is durable:
1. read the app's latest committed version `n` and apply the change in memory;
2. claim version `n+1` by a unique insert (of two concurrent changes exactly one gets it; the
   other reads again and reapplies, with jittered backoff, a bounded number of times, then 409);
3. publish the event and wait for the broker's acknowledgement (a failure releases the claim
   and answers 503: nothing was written that a reader could see);
4. commit version `n+1` (another unique insert): only now do readers see the change.
A writer that crashed between 2 and 4 leaves a claim that blocks the app; a claim older than
`claim_lease_s` that was never committed is removed by the next writer (and a writer that took
longer than half the lease does not commit), so one crash costs one lease, never the app.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from auth.domain.apps import (
    App,
    AppChanges,
    AppFields,
    Terms,
    apply_changes,
    apply_terms,
    new_app,
    with_secret,
)
from auth.service import app_events
from auth.service.app_ports import AppIndex, AppStore, Developer
from auth.service.developers import Developers, new_secret, sha256_hex
from auth.service.ports import EventPublisher, VersionConflict
from shared.events import EventData, make_event

log = logging.getLogger(__name__)
SECRET_PREFIX = "kcs_"  # "kits client secret"
_NO_SECRET = sha256_hex("no app has this secret")  # compared against, so timing stays even


class AppNotFound(LookupError):
    """No such app, or one another developer owns (the same answer, so ids do not leak)."""


class AppBusy(RuntimeError):
    """The app kept changing under this request; try again."""


class TooManyApps(RuntimeError):
    """The developer has registered as many apps as allowed."""


@dataclass(frozen=True, slots=True)
class Registered:
    """A new app and, for a confidential client, its secret (shown this once)."""

    app: App
    client_secret: str | None


@dataclass(frozen=True, slots=True)
class Limits:
    """How the registry bounds its work."""

    max_attempts: int = 25
    claim_lease_s: float = 60.0
    max_apps_per_developer: int = 100
    allow_http_loopback: bool = False  # URLs other than redirect URIs (development only)


Change = Callable[[App, int], tuple[App, EventData | None]]


class AppRegistry:
    """Registered apps, their owners' changes, and what the OAuth server asks of them."""

    def __init__(
        self,
        *,
        store: AppStore,
        index: AppIndex,
        developers: Developers,
        publisher: EventPublisher,
        source: str,
        limits: Limits,
    ) -> None:
        self._store, self._index, self.developers = store, index, developers
        self._publisher, self._source, self._limits = publisher, source, limits

    async def register(self, developer: Developer, fields: AppFields) -> Registered:
        """Register a new app for `developer`; its event is durable before this returns."""
        secret = new_secret(SECRET_PREFIX) if fields.client_type == "confidential" else None
        app = new_app(
            fields,
            client_id="app_" + secrets.token_hex(16),
            developer_id=developer.developer_id,
            developer_name=developer.name,
            secret_sha256=sha256_hex(secret) if secret else None,
            now=time.time(),
            allow_http_loopback=self._limits.allow_http_loopback,
        )
        # Indexed first: a listing skips an id whose app was never committed.
        await self._index_add(developer.developer_id, app.client_id)
        await self._store.claim(app.client_id, version=1, now=time.time())
        await self._publish_and_commit(app, version=1, data=app_events.registered(app))
        return Registered(app=app, client_secret=secret)

    async def owned(self, developer: Developer) -> list[App]:
        """The developer's apps, oldest first (one read per app, all by `_id`)."""
        _, ids = await self._index.load(developer.developer_id)
        found = await asyncio.gather(*(self._store.load(client_id) for client_id in ids))
        apps = [s.app for s in found if s and s.app.developer_id == developer.developer_id]
        return sorted(apps, key=lambda app: app.created_at)

    async def owned_app(self, developer: Developer, client_id: str) -> App:
        """One of the developer's apps; AppNotFound for an unknown app or someone else's."""
        stored = await self._store.load(client_id)
        if stored is None or stored.app.developer_id != developer.developer_id:
            raise AppNotFound(client_id)
        return stored.app

    async def update(self, developer: Developer, client_id: str, changes: AppChanges) -> App:
        """Change name, redirect URIs, scopes or URLs; `auth.app_updated.v1` if anything changed."""

        def change(app: App, version: int) -> tuple[App, EventData | None]:
            new, changed = apply_changes(
                app, changes, now=time.time(), allow_http_loopback=self._limits.allow_http_loopback
            )
            event = app_events.updated(new, changed=changed, version=version) if changed else None
            return new, event

        return await self._change(developer, client_id, change)

    async def update_terms(self, developer: Developer, client_id: str, terms: Terms) -> App:
        """New terms (a version label never used before); `auth.app_terms_updated.v1`."""

        def change(app: App, version: int) -> tuple[App, EventData | None]:
            new = apply_terms(
                app, terms, now=time.time(), allow_http_loopback=self._limits.allow_http_loopback
            )
            return new, app_events.terms_updated(new, previous=app, version=version)

        return await self._change(developer, client_id, change)

    async def rotate_secret(self, developer: Developer, client_id: str) -> tuple[App, str]:
        """A new client secret (shown this once); the old one stops working when this returns."""
        secret = new_secret(SECRET_PREFIX)

        def change(app: App, version: int) -> tuple[App, EventData | None]:
            new = with_secret(app, sha256_hex(secret), now=time.time())
            return new, app_events.updated(new, changed=("client_secret",), version=version)

        return await self._change(developer, client_id, change), secret

    async def get(self, client_id: str) -> App | None:
        """The app by client id, as the OAuth server needs it (reads by `_id` only)."""
        stored = await self._store.load(client_id)
        return stored.app if stored else None

    async def authenticate(self, client_id: str, secret: str) -> App | None:
        """The confidential app if `secret` is its client secret (compared in constant time,
        and as long for an unknown or public app), else None."""
        app = await self.get(client_id)
        stored = app.secret_sha256 if app is not None and app.secret_sha256 else _NO_SECRET
        matches = hmac.compare_digest(sha256_hex(secret), stored)
        return app if matches and app is not None and app.confidential else None

    async def _change(self, developer: Developer, client_id: str, change: Change) -> App:
        for attempt in range(self._limits.max_attempts):
            stored = await self._store.load(client_id)
            if stored is None or stored.app.developer_id != developer.developer_id:
                raise AppNotFound(client_id)
            version = stored.version + 1
            app, event = change(stored.app, version)
            if event is None:
                return stored.app  # nothing changed: no version, no event
            try:
                await self._store.claim(client_id, version=version, now=time.time())
            except VersionConflict:
                await self._after_conflict(client_id, version=version, attempt=attempt)
                continue
            await self._publish_and_commit(app, version=version, data=event)
            return app
        raise AppBusy(f"{client_id} kept changing concurrently; try again")

    async def _publish_and_commit(self, app: App, *, version: int, data: EventData) -> None:
        started = time.monotonic()
        try:
            await self._publisher.publish(make_event(data, source=self._source))
        except BaseException:
            await self._release(app.client_id, version=version)
            raise
        if time.monotonic() - started > self._limits.claim_lease_s / 2:
            # The claim may already count as stale to another writer: committing now could race
            # its commit. The event is out, but the change is not made: the caller sees 409.
            await self._release(app.client_id, version=version)
            raise AppBusy(f"{app.client_id}: the change took too long to publish; try again")
        try:
            # Shielded: once the event is out, a cancelled request must still make the change.
            await asyncio.shield(self._store.commit(app, version=version))
        except VersionConflict as exc:
            raise AppBusy(f"{app.client_id} changed concurrently; try again") from exc

    async def _release(self, client_id: str, *, version: int) -> None:
        """Give the claim back, shielded (a cancelled request must too); if the database is
        away as well, the claim goes stale and the next writer clears it after its lease."""
        try:
            await asyncio.shield(self._store.release(client_id, version=version))
        except Exception:  # noqa: BLE001 - the caller's own error is the one to report
            log.warning("claim %s#%d not released; it clears after its lease", client_id, version)

    async def _after_conflict(self, client_id: str, *, version: int, attempt: int) -> None:
        older_than = time.time() - self._limits.claim_lease_s
        if await self._store.clear_stale(client_id, version=version, older_than=older_than):
            return
        await asyncio.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))

    async def _index_add(self, developer_id: str, client_id: str) -> None:
        for attempt in range(self._limits.max_attempts):
            version, ids = await self._index.load(developer_id)
            if len(ids) >= self._limits.max_apps_per_developer:
                raise TooManyApps(f"at most {self._limits.max_apps_per_developer} apps each")
            try:
                await self._index.save(
                    developer_id, version=version + 1, client_ids=(*ids, client_id)
                )
                return
            except VersionConflict:
                await asyncio.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
        raise AppBusy("the developer's app list kept changing concurrently; try again")
