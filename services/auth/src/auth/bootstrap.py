"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

from dataclasses import dataclass

from auth.config import AuthSettings
from shared.events import auth, transfer
from shared.runtime import Runtime, declare_publications

PUBLISHES = (
    auth.AppRegistered,
    auth.AppTermsUpdated,
    auth.UserSignedUp,
    auth.UserLoggedIn,
    auth.UserDeleted,
    auth.TokenIssued,
    auth.TokenRevoked,
    transfer.TransferRecorded,
)


@dataclass
class Container:
    """What the entry points of the auth service are handed."""

    settings: AuthSettings
    runtime: Runtime

    async def start(self) -> None:
        """Connect and start consuming."""
        await self.runtime.start()

    async def stop(self) -> None:
        """Stop consuming and close the clients."""
        await self.runtime.stop()


def bootstrap(settings: AuthSettings | None = None) -> Container:
    """Build (without connecting) everything the auth service needs."""
    settings = settings or AuthSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    container = Container(settings=settings, runtime=runtime)
    return container
