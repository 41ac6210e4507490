"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from auth.adapters.http_consent import HttpConsentCheck
from auth.adapters.http_dashboard import HttpAccessReports, HttpUserConsents
from auth.adapters.jose_consent_handover import ChallengeJws, VerdictJws
from auth.adapters.jose_oauth import Ed25519Codec, Rs256Signer
from auth.adapters.jose_service_tokens import ServiceTokenSigner
from auth.adapters.jose_user_tokens import UserTokenSigner
from auth.adapters.kafka_transfers import KafkaTransfers
from auth.adapters.mongo_apps import MongoAppIndex, MongoApps, MongoDevelopers, create_app_indexes
from auth.adapters.mongo_flows import MongoFlows
from auth.adapters.mongo_login import (
    MongoChallenges,
    MongoLookups,
    MongoSessions,
    MongoUsers,
    create_login_indexes,
)
from auth.adapters.mongo_oauth import MongoOAuthStore, create_oauth_indexes
from auth.adapters.mongo_profiles import profile_store
from auth.adapters.mongo_slots import MongoSlots
from auth.adapters.sms_dev import DevSmsSender
from auth.adapters.sms_twilio import TwilioSmsSender
from auth.config import AuthSettings
from auth.domain.identity import LookupKeys
from auth.domain.token_rules import Lifetimes
from auth.service.access import LiveTokens
from auth.service.accounts import Accounts
from auth.service.apps import AppRegistry, Limits
from auth.service.authorize import Authorize
from auth.service.consent_callback import ConsentCallback
from auth.service.dashboard import Dashboard, RegistryTerms
from auth.service.data_api import DataApi
from auth.service.developers import Developers
from auth.service.login import LoginLimits, PhoneLogin
from auth.service.oauth_codes import OAuthCodes
from auth.service.oauth_ports import (
    AccessTokens,
    AuthorizationCodes,
    ConsentCheck,
    TransferRecorder,
)
from auth.service.oauth_unwired import UnwiredConsentCheck, UnwiredTransfers
from auth.service.profiles import Profiles
from auth.service.revocation import Revocations
from auth.service.seed import DemoSeeder
from auth.service.sessions import Sessions
from auth.service.sweeper import Sweeper
from auth.service.token_kit import TokenKit
from auth.service.tokens import TokenService
from shared.events import auth, transfer
from shared.jwks import JwksKeys
from shared.runtime import Runtime, declare_publications
from shared.service_tokens import ServiceTokenVerifier

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
    # OAuth server, token side (issue 17, H1): codes, families, tokens, the ports they use.
    oauth: OAuthTokenSide
    service_tokens: ServiceTokenSigner  # auth's calls to other services
    consent_check: ConsentCheck  # the consent service's check (HTTP), fail closed
    authorize: Authorize  # GET /oauth/authorize
    consent_callback: ConsentCallback  # GET /oauth/consent/callback
    transfers: TransferRecorder  # the transfer record, durable before data leaves
    access_tokens: AccessTokens  # the data API's token check (the token side's live tokens)
    dashboard: Dashboard  # the privacy dashboard (issue 19): consent and audit with user tokens
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def prepare(self) -> None:
        """Create the indexes deletion and the sweeps use."""
        await create_login_indexes(self.runtime.db)
        await create_app_indexes(self.runtime.db)
        await create_oauth_indexes(self.runtime.db, shards=self.settings.oauth_collection_shards)

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
        for port in (self.consent_check, self.dashboard.consents, self.dashboard.reports):
            close = getattr(port, "aclose", None)  # the HTTP adapters' pools
            if close is not None:
                await close()
        await self.runtime.stop()

    @property
    def oauth_codes(self) -> OAuthCodes:
        """The AuthorizationCodes port (H2's authorize step issues codes with it)."""
        return self.oauth.codes

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


@dataclass
class OAuthTokenSide:
    """The token side of the OAuth server, and the ports it depends on."""

    kit: TokenKit
    codes: OAuthCodes
    tokens: TokenService
    live: LiveTokens
    revocations: Revocations
    consent_check: ConsentCheck
    transfers: TransferRecorder
    service_callers: ServiceTokenVerifier


def build_oauth_tokens(
    settings: AuthSettings,
    runtime: Runtime,
    *,
    consent_check: ConsentCheck | None = None,
    transfers: TransferRecorder | None = None,
) -> OAuthTokenSide:
    """Codes, families, refresh tokens, signers and the token use cases."""
    kit = TokenKit(
        store=MongoOAuthStore(runtime.db, shards=settings.oauth_collection_shards),
        access=Ed25519Codec(seeds=settings.oauth_access_token_keys.get_secret_value()),
        id_tokens=Rs256Signer(keys=settings.oauth_id_token_keys.get_secret_value()),
        issuer=settings.issuer,
        lifetimes=Lifetimes(
            access_s=settings.access_token_ttl_s,
            id_token_s=settings.oauth_id_token_ttl_s,
            refresh_family_s=settings.oauth_refresh_family_ttl_s,
            code_s=settings.oauth_code_ttl_s,
        ),
    )
    consent = consent_check or UnwiredConsentCheck()
    recorder = transfers or UnwiredTransfers()
    revocations = Revocations(kit=kit, publisher=runtime.publisher, source=SOURCE)
    tokens = TokenService(
        kit=kit,
        revocations=revocations,
        consent=consent,
        transfers=recorder,
        publisher=runtime.publisher,
        source=SOURCE,
    )
    callers = {
        name: JwksKeys(jwks=keys.jwks, jwks_url=keys.jwks_url, development=settings.development)
        for name, keys in settings.service_callers.items()
    }
    return OAuthTokenSide(
        kit=kit,
        codes=OAuthCodes(kit=kit),
        tokens=tokens,
        live=LiveTokens(kit=kit, consent=consent),
        revocations=revocations,
        consent_check=consent,
        transfers=recorder,
        service_callers=ServiceTokenVerifier(
            audience=settings.service_token_audience, callers=callers
        ),
    )


def bootstrap(
    settings: AuthSettings | None = None,
    *,
    consent_check: ConsentCheck | None = None,
    transfers: TransferRecorder | None = None,
    oauth_codes: AuthorizationCodes | None = None,
) -> Container:
    """Build (without connecting) everything the auth service needs (`consent_check`,
    `transfers`, `oauth_codes`: the OAuth ports' adapters, fakes in tests)."""
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
    service_tokens = ServiceTokenSigner(seeds=settings.user_token_keys.get_secret_value())
    apps = _app_registry(settings, runtime)
    consent_check = consent_check or HttpConsentCheck(
        base_url=settings.consent_check_url,
        tokens=service_tokens,
        timeout_s=settings.consent_timeout_s,
    )
    transfers = transfers or build_transfers(settings, runtime)
    oauth = build_oauth_tokens(settings, runtime, consent_check=consent_check, transfers=transfers)
    authorize = _authorize(
        settings,
        runtime,
        apps=apps,
        sessions=sessions,
        consent_check=consent_check,
        codes=oauth_codes or oauth.codes,
    )
    accounts = Accounts(
        lookups=lookups,
        sessions=session_store,
        users=users,
        publisher=runtime.publisher,
        source=SOURCE,
        erasers=[profiles.delete_user],
    )
    user_tokens = UserTokenSigner(
        seeds=settings.user_token_keys.get_secret_value(),
        issuer=settings.issuer,
        audience=settings.user_token_audience,
        ttl_s=settings.user_token_ttl_s,
    )
    return Container(
        settings=settings,
        runtime=runtime,
        sessions=sessions,
        login=login,
        accounts=accounts,
        user_tokens=user_tokens,
        dashboard=build_dashboard(settings, apps=apps, accounts=accounts, tokens=user_tokens),
        sweeper=Sweeper(
            sweeps=(
                slots.sweep,
                MongoChallenges(db).sweep,
                session_store.sweep,
                MongoOAuthStore(db, shards=settings.oauth_collection_shards).sweep,
                MongoFlows(db).sweep,
            )
        ),
        profiles=profiles,
        sms=sms,
        apps=apps,
        oauth=oauth,
        transfers=transfers,
        access_tokens=oauth.live,
        service_tokens=service_tokens,
        consent_check=consent_check,
        authorize=authorize,
        consent_callback=ConsentCallback(
            authorize=authorize,
            verdicts=VerdictJws(
                consent_issuer=settings.consent_issuer,
                audience=settings.issuer,
                jwks=settings.consent_jwks,
                jwks_url="" if settings.consent_jwks else settings.consent_jwks_url,
                development=settings.development,
            ),
        ),
    )


def build_dashboard(
    settings: AuthSettings, *, apps: AppRegistry, accounts: Accounts, tokens: UserTokenSigner
) -> Dashboard:
    """The privacy dashboard on consent's and the audit's HTTP APIs (README "Privacy dashboard")."""
    timeout_s = settings.dashboard_timeout_s
    return Dashboard(
        consents=HttpUserConsents(base_url=settings.consent_check_url, timeout_s=timeout_s),
        reports=HttpAccessReports(base_url=settings.audit_call_url, timeout_s=timeout_s),
        tokens=tokens,
        terms=RegistryTerms(apps=apps),
        accounts=accounts,
    )


def _authorize(
    settings: AuthSettings,
    runtime: Runtime,
    *,
    apps: AppRegistry,
    sessions: Sessions,
    consent_check: ConsentCheck,
    codes: AuthorizationCodes,
) -> Authorize:
    """OAuth authorize (H2): the authorization endpoint's use case."""
    return Authorize(
        apps=apps,
        sessions=sessions,
        consent=consent_check,
        codes=codes,
        flows=MongoFlows(runtime.db),
        challenges=ChallengeJws(
            seeds=settings.user_token_keys.get_secret_value(), issuer=settings.issuer
        ),
        issuer=settings.issuer,
        consent_url=settings.consent_url,
        pairwise_secret=settings.pairwise_secret.get_secret_value().encode(),
        challenge_ttl_s=settings.consent_challenge_ttl_s,
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
