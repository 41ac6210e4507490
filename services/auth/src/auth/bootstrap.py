"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from auth.adapters.jose_user_tokens import UserTokenSigner
from auth.adapters.kafka_transfers import KafkaTransfers
from auth.adapters.mongo_apps import MongoAppIndex, MongoApps, MongoDevelopers, create_app_indexes
from auth.adapters.mongo_login import (
    MongoChallenges,
    MongoLookups,
    MongoSessions,
    MongoUsers,
    create_login_indexes,
)
from auth.adapters.mongo_profiles import profile_store
from auth.adapters.mongo_slots import MongoSlots
from auth.adapters.sms_dev import DevSmsSender
from auth.adapters.sms_twilio import TwilioSmsSender
from auth.adapters.unwired import UnwiredAccessTokens, UnwiredConsentCheck
from auth.config import AuthSettings
from auth.domain.identity import LookupKeys
from auth.service.accounts import Accounts
from auth.service.apps import AppRegistry, Limits
from auth.service.data_api import DataApi
from auth.service.developers import Developers
from auth.service.login import LoginLimits, PhoneLogin
from auth.service.oauth_ports import AccessTokens, ConsentCheck, TransferRecorder
from auth.service.profiles import Profiles
from auth.service.seed import DemoSeeder
from auth.service.sessions import Sessions
from auth.service.sweeper import Sweeper
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
    login: PhoneLogin
    accounts: Accounts
    user_tokens: UserTokenSigner
    sweeper: Sweeper
    profiles: Profiles
    sms: DevSmsSender | TwilioSmsSender
    apps: AppRegistry
    # The Login Kit data API and transfers (H3). `access_tokens` (H1) and `consent_check` (H2)
    # are fail-closed stand-ins here until their adapters are merged.
    transfers: TransferRecorder
    access_tokens: AccessTokens = field(default_factory=UnwiredAccessTokens)
    consent_check: ConsentCheck = field(default_factory=UnwiredConsentCheck)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def prepare(self) -> None:
        """Create the indexes deletion and the sweeps use."""
        await create_login_indexes(self.runtime.db)
        await create_app_indexes(self.runtime.db)

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
        await self.sms.aclose()
        await self.runtime.stop()

    @property
    def data_api(self) -> DataApi:
        """The data requests' handlers, on the container's current ports."""
        return DataApi(
            access_tokens=self.access_tokens,
            consent_check=self.consent_check,
            transfers=self.transfers,
            profiles=self.profiles,
            issuer=self.settings.issuer,
        )

    @property
    def dev_sms(self) -> DevSmsSender | None:
        """Development only: the sender whose codes `POST /dev/sms/last-code` reads."""
        return self.sms if isinstance(self.sms, DevSmsSender) else None


def bootstrap(settings: AuthSettings | None = None) -> Container:
    """Build (without connecting) everything the auth service needs."""
    settings = settings or AuthSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    db = runtime.db
    users, lookups, session_store = MongoUsers(db), MongoLookups(db), MongoSessions(db)
    slots = MongoSlots(db)
    sessions = Sessions(store=session_store, users=users, ttl_s=settings.session_ttl_s)
    profiles = Profiles(store=profile_store(db), development=settings.development)
    sms = build_sms_sender(settings)
    login = _phone_login(settings, runtime, sms=sms, sessions=sessions, slots=slots)
    accounts = Accounts(
        lookups=lookups,
        sessions=session_store,
        users=users,
        publisher=runtime.publisher,
        source=SOURCE,
        erasers=[profiles.delete_user],
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
        sweeper=Sweeper(sweeps=(slots.sweep, MongoChallenges(db).sweep, session_store.sweep)),
        profiles=profiles,
        sms=sms,
        apps=_app_registry(settings, runtime),
        transfers=build_transfers(settings, runtime),
    )


def build_transfers(settings: AuthSettings, runtime: Runtime) -> KafkaTransfers:
    """The transfer recorder on the runtime's durable publisher (acks=all, the deadline)."""
    return KafkaTransfers(
        publisher=runtime.publisher, source=SOURCE, topic=settings.transfers_topic
    )


def _phone_login(
    settings: AuthSettings,
    runtime: Runtime,
    *,
    sms: DevSmsSender | TwilioSmsSender,
    sessions: Sessions,
    slots: MongoSlots,
) -> PhoneLogin:
    db = runtime.db
    return PhoneLogin(
        challenges=MongoChallenges(db),
        lookups=MongoLookups(db),
        users=MongoUsers(db),
        slots=slots,
        sms=sms,
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


def build_sms_sender(settings: AuthSettings) -> DevSmsSender | TwilioSmsSender:
    """The SMS sender `sms_sender` names (call `aclose()` on it when stopping)."""
    if settings.sms_sender == "development":
        return DevSmsSender()
    return TwilioSmsSender(
        api_url=settings.twilio_api_url,
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        sender=settings.twilio_from.get_secret_value(),
        timeout_s=settings.twilio_timeout_s,
        max_attempts=settings.twilio_max_attempts,
        backoff_s=settings.twilio_retry_backoff_s,
    )


def demo_seeder(container: Container) -> DemoSeeder:
    """The `seed-demo` handler, on the container's database and publisher."""
    settings, db = container.settings, container.runtime.db
    return DemoSeeder(
        lookups=MongoLookups(db),
        users=MongoUsers(db),
        profiles=container.profiles,
        keys=LookupKeys(keys=settings.lookup_key_map(), current=settings.lookup_key_id),
        publisher=container.runtime.publisher,
        source=SOURCE,
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
