"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from auth.adapters.jose_user_tokens import UserTokenSigner
from auth.adapters.mongo_login import (
    MongoChallenges,
    MongoLookups,
    MongoSessions,
    MongoUsers,
    create_login_indexes,
)
from auth.adapters.mongo_slots import MongoSlots
from auth.adapters.sms_dev import DevSmsSender
from auth.config import AuthSettings
from auth.domain.identity import LookupKeys
from auth.service.accounts import Accounts
from auth.service.login import LoginLimits, PhoneLogin
from auth.service.ports import SmsSender
from auth.service.sessions import Sessions
from auth.service.sweeper import Sweeper
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
SOURCE = "kits.auth"


@dataclass
class Container:
    """What the entry points of the auth service are handed."""

    settings: AuthSettings
    runtime: Runtime
    sessions: Sessions
    login: PhoneLogin
    accounts: Accounts
    user_tokens: UserTokenSigner
    sweeper: Sweeper
    dev_sms: DevSmsSender | None  # development only: the codes `POST /dev/sms/last-code` reads
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def prepare(self) -> None:
        """Create the indexes deletion and the sweeps use."""
        await create_login_indexes(self.runtime.db)

    async def start(self) -> None:
        """Indexes, topics, broker, then the sweeper (an owned task)."""
        await self.prepare()
        await self.runtime.start()
        self.tasks = [asyncio.create_task(self.sweeper.run(), name="sweeper")]

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
    users, lookups, session_store = MongoUsers(db), MongoLookups(db), MongoSessions(db)
    slots, challenges = MongoSlots(db), MongoChallenges(db)
    sessions = Sessions(store=session_store, users=users, ttl_s=settings.session_ttl_s)
    dev_sms = DevSmsSender() if settings.sms_sender == "development" else None
    login = PhoneLogin(
        challenges=challenges,
        lookups=lookups,
        users=users,
        slots=slots,
        sms=dev_sms or _sms(settings),
        publisher=runtime.publisher,
        sessions=sessions,
        lookup_keys=LookupKeys(keys=settings.lookup_key_map(), current=settings.lookup_key_id),
        otp_key=settings.otp_key.get_secret_value().encode(),
        limits=LoginLimits(
            number=settings.windows("start_limits_number"),
            address=settings.windows("start_limits_address"),
            failures=settings.windows("verify_failure_limits_number"),
        ),
        ttl_s=settings.otp_ttl_s,
        max_attempts=settings.otp_max_attempts,
        source=SOURCE,
    )
    accounts = Accounts(
        lookups=lookups,
        sessions=session_store,
        users=users,
        publisher=runtime.publisher,
        source=SOURCE,
    )
    return Container(
        settings=settings,
        runtime=runtime,
        sessions=sessions,
        login=login,
        accounts=accounts,
        user_tokens=UserTokenSigner(
            seeds=settings.user_token_keys.get_secret_value(),
            issuer=settings.issuer,
            audience=settings.user_token_audience,
            ttl_s=settings.user_token_ttl_s,
        ),
        sweeper=Sweeper(sweeps=(slots.sweep, challenges.sweep, session_store.sweep)),
        dev_sms=dev_sms,
    )


def _sms(settings: AuthSettings) -> SmsSender:
    raise ValueError(f"sms_sender={settings.sms_sender}: its adapter is not wired yet")
