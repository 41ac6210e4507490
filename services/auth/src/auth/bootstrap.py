"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from auth.adapters.mongo_apps import MongoAppIndex, MongoApps, MongoDevelopers, create_app_indexes
from auth.adapters.mongo_login import MongoSessions, MongoUsers, create_login_indexes
from auth.config import AuthSettings
from auth.service.apps import AppRegistry, Limits
from auth.service.developers import Developers
from auth.service.sessions import Sessions
from shared.events import auth, transfer
from shared.runtime import Runtime, declare_publications

PUBLISHES = (
    auth.AppRegistered,
    auth.AppTermsUpdated,
    auth.AppUpdated,
    auth.UserSignedUp,
    auth.UserLoggedIn,
    auth.UserDeleted,
    auth.TokenIssued,
    auth.TokenRevoked,
    transfer.TransferRecorded,
)
SOURCE = "kits.auth"


@dataclass
class Container:
    """What the entry points of the auth service are handed."""

    settings: AuthSettings
    runtime: Runtime
    sessions: Sessions
    apps: AppRegistry
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def prepare(self) -> None:
        """Create the indexes deletion and the sweeps use."""
        await create_login_indexes(self.runtime.db)
        await create_app_indexes(self.runtime.db)

    async def start(self) -> None:
        """Indexes, topics, broker, then the sweeper (an owned task)."""
        await self.prepare()
        await self.runtime.start()

    async def stop(self) -> None:
        """Stop the loops, then the broker and clients."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []
        await self.runtime.stop()


def bootstrap(settings: AuthSettings | None = None) -> Container:
    """Build (without connecting) everything the auth service needs."""
    settings = settings or AuthSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    db = runtime.db
    users = MongoUsers(db)
    sessions = Sessions(store=MongoSessions(db), users=users, ttl_s=settings.session_ttl_s)
    return Container(
        settings=settings, runtime=runtime, sessions=sessions, apps=_app_registry(settings, runtime)
    )


def _app_registry(settings: AuthSettings, runtime: Runtime) -> AppRegistry:
    return AppRegistry(
        store=MongoApps(runtime.db),
        index=MongoAppIndex(runtime.db),
        developers=Developers(store=MongoDevelopers(runtime.db)),
        publisher=runtime.publisher,
        source=SOURCE,
        limits=Limits(
            max_attempts=settings.apps_max_attempts,
            claim_lease_s=settings.apps_claim_lease_s,
            max_apps_per_developer=settings.apps_max_per_developer,
            allow_http_loopback=settings.development,
        ),
    )
