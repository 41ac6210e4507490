"""Settings of the auth service, from `AUTH_*` environment variables."""

from __future__ import annotations

import re
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from auth.domain.limits import Window, parse_windows
from shared.settings import DEV_SECRET_PREFIX, DEV_USER_TOKEN_ISSUER, ServiceSettings, check_key_url
from shared.topics import CONSENT_EVENTS, TRANSFER_EVENTS

MIN_SECRET_CHARS = 32


class CallerKeys(BaseModel):
    """Where one calling service publishes its token keys: a JWKS URL, or the JWKS inline."""

    jwks_url: str = Field(default="", max_length=2000)
    jwks: str = Field(default="", max_length=100_000)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if bool(self.jwks) == bool(self.jwks_url):
            raise ValueError("a caller names either jwks_url or an inline jwks")
        return self


class AuthSettings(ServiceSettings):
    """Everything the auth service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", frozen=True)

    service_name: str = "auth"
    http_port: int = 8001

    # Auth's public base URL: the `iss` of every token it signs and the base of its pages.
    issuer: str = Field(default=DEV_USER_TOKEN_ISSUER, min_length=1, max_length=500)

    # Keyed-hash keys of the phone lookup, `id=secret` pairs (comma separated); the one named by
    # `lookup_key_id` writes new lookups, the others are still read (rotation, see README).
    lookup_keys: SecretStr = SecretStr("lk1=dev-only-lookup-key-1")
    lookup_key_id: str = Field(default="lk1", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    # HMAC key of the short-lived login state: challenge ids, code hashes, rate-limit counters.
    otp_key: SecretStr = SecretStr("dev-only-otp-key")
    # HMAC key of the per-app ids (OIDC pairwise subjects): changing it changes every app's ids.
    pairwise_secret: SecretStr = SecretStr("dev-only-pairwise-secret")
    # Ed25519 seeds (base64 of 32 bytes, comma separated) signing platform user tokens: the
    # first signs, all are published at the JWKS endpoint (rotation: add the new one first).
    user_token_keys: SecretStr = SecretStr("dev-only-user-token-key-1")
    user_token_audience: str = Field(default="kits-platform", min_length=1, max_length=200)
    user_token_ttl_s: int = Field(default=300, ge=30, le=3600)

    session_cookie: str = Field(default="kits_session", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    session_cookie_secure: bool = True
    session_ttl_s: int = Field(default=43_200, ge=60, le=30 * 86_400)

    otp_ttl_s: int = Field(default=300, ge=30, le=300)
    otp_max_attempts: int = Field(default=5, ge=1, le=5)
    # `seconds:count` windows, comma separated (fixed windows, counted by unique inserts).
    start_limits_number: str = "60:1,3600:5,86400:10"
    start_limits_address: str = "60:20,3600:100,86400:500"
    verify_failure_limits_number: str = "3600:100"
    # Where the client's address is read: empty for the TCP peer; a header name (e.g.
    # `x-forwarded-for`, its first entry) only behind a proxy that sets it.
    client_address_header: str = Field(default="", max_length=100)

    # `development` keeps codes in memory for `POST /dev/sms/last-code`; refused in production.
    sms_sender: Literal["development", "twilio"] = "development"
    twilio_api_url: str = Field(default="https://api.twilio.com", max_length=500)
    twilio_account_sid: str = Field(default="", max_length=64)
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_from: SecretStr = SecretStr("")  # the platform's sender number or messaging service
    # SMS provider (profiles helper): per-try timeout, tries on 5xx/network errors, backoff base.
    twilio_timeout_s: float = Field(default=10.0, gt=0, le=60)
    twilio_max_attempts: int = Field(default=3, ge=1, le=5)
    twilio_retry_backoff_s: float = Field(default=0.5, ge=0, le=10)

    # App registry (README "App registry"): bounded retries of a conflicting change (then
    # 409), how long a crashed writer's claim blocks an app, and how many apps one developer
    # may register.
    apps_max_attempts: int = Field(default=25, ge=1, le=100)
    apps_claim_lease_s: float = Field(default=60.0, ge=1, le=3600)
    apps_max_per_developer: int = Field(default=100, ge=1, le=1000)

    # --- OAuth 2.0 / OIDC server, the token side (issue 17, H1; README "OAuth 2.0 and OpenID
    # Connect: tokens") ---
    # Ed25519 seeds (base64 of 32 bytes, comma separated) signing access tokens; the first
    # signs, all are published at /oauth/jwks.json.
    oauth_access_token_keys: SecretStr = SecretStr("dev-only-oauth-access-token-key-1")
    # RSA private keys (PEM, comma separated) signing ID tokens RS256; a `dev-only-` phrase
    # derives a development key. The first signs, all are published.
    oauth_id_token_keys: SecretStr = SecretStr("dev-only-oauth-id-token-key-1")
    access_token_ttl_s: int = Field(default=900, ge=60, le=3600)
    oauth_id_token_ttl_s: int = Field(default=900, ge=60, le=3600)
    oauth_refresh_family_ttl_s: int = Field(default=30 * 86_400, ge=3600, le=90 * 86_400)
    oauth_code_ttl_s: int = Field(default=60, ge=5, le=60)
    # Codes, families and refresh tokens are each split over this many collections (FerretDB's
    # `_id` finds slow down with collection size); fixed for a deployment's life.
    oauth_collection_shards: int = Field(default=64, ge=1, le=256)
    # Consent's events (revoked and invalidated consents end their token families).
    consent_events_topic: str = Field(default=CONSENT_EVENTS, pattern=r"^[A-Za-z0-9._-]{1,200}$")
    consent_events_group: str = Field(
        default="auth.consent-events", pattern=r"^[A-Za-z0-9._-]{1,200}$"
    )
    # Services allowed to call `/internal/v1/access-tokens/resolve`, each with its published
    # keys, e.g. {"sound": {"jwks_url": "https://sound/.well-known/jwks.json"}}; their tokens'
    # `aud` must be `service_token_audience`. No callers: every call is refused (401).
    service_callers: dict[str, CallerKeys] = Field(default_factory=dict)
    service_token_audience: str = Field(default="auth", min_length=1, max_length=200)
    # --- OAuth authorize (H2): the authorization endpoint and the consent hand-over ---
    # Consent's public base URL: the browser is sent to `{consent_url}/consent?challenge=…`.
    consent_url: str = Field(default="http://127.0.0.1:8002", min_length=1, max_length=500)
    # Where auth itself calls consent's check (`POST …/v1/checks`); empty: `consent_url`. Differs
    # only where the browser and auth reach consent by different names (compose: `consent:8002`).
    consent_api_url: str = Field(default="", max_length=500)
    # Consent's verdict keys: its JWKS URL, or the JWKS inline (tests); and its verdicts' `iss`.
    consent_jwks_url: str = Field(
        default="http://127.0.0.1:8002/.well-known/jwks.json", max_length=500
    )
    consent_jwks: str = Field(default="", max_length=100_000)
    consent_issuer: str = Field(default="http://127.0.0.1:8002", min_length=1, max_length=500)
    # The whole check call (connect, send, answer) must end within this; then fail closed.
    consent_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # Lifetime of a consent challenge and of the flow it belongs to (consent allows <= 300 s).
    consent_challenge_ttl_s: int = Field(default=120, ge=10, le=300)
    # The cookie holding the nonce a challenge is bound to (consent reads the same name).
    flow_cookie: str = Field(default="kits_flow", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # Empty: a host-only cookie (auth and consent on one host; ports do not matter). Where they
    # are served on sibling hosts, their parent domain (e.g. `kits.example`).
    flow_cookie_domain: str = Field(default="", pattern=r"^([a-z0-9-]+(\.[a-z0-9-]+)+)?$")
    # The Login Kit data API and transfers (H3): the topic of `transfer.recorded.v1` (tests and
    # the bench use their own); the record's deadline is `publish_deadline_s`.
    transfers_topic: str = Field(default=TRANSFER_EVENTS, pattern=r"^[A-Za-z0-9._-]{1,200}$")
    # --- The privacy dashboard (issue 19): the audit's public base URL (the page's browser
    # fetches ledger entries from it, so it is the CSP `connect-src`), where auth itself calls
    # the audit's `/reports/me` (empty: `audit_url`; compose: `http://audit:8004`), and the
    # bound of each of the dashboard's calls to consent and the audit.
    audit_url: str = Field(default="http://127.0.0.1:8004", min_length=1, max_length=500)
    audit_api_url: str = Field(default="", max_length=500)
    dashboard_timeout_s: float = Field(default=5.0, gt=0, le=30)

    @property
    def development(self) -> bool:
        """Whether this is a development deployment (dev endpoints and secrets allowed)."""
        return self.environment == "development"

    def lookup_key_map(self) -> dict[str, bytes]:
        """The lookup keys by id."""
        return _pairs(self.lookup_keys.get_secret_value())

    def windows(self, name: str) -> tuple[Window, ...]:
        """One of the `*_limits_*` settings, parsed."""
        value: str = getattr(self, name)
        return parse_windows(value)

    @model_validator(mode="after")
    def _twilio_is_configured(self) -> Self:
        # SMS provider (profiles helper): refuse to start a sender that could never send.
        if self.sms_sender != "twilio":
            return self
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", self.twilio_account_sid):
            raise ValueError("twilio_account_sid must be an account SID (AC and 32 hex digits)")
        if not self.twilio_auth_token.get_secret_value() or not self.twilio_from.get_secret_value():
            raise ValueError("sms_sender=twilio needs twilio_auth_token and twilio_from")
        check_key_url(self.twilio_api_url, development=self.development, name="twilio_api_url")
        return self

    @model_validator(mode="after")
    def _keys_are_usable(self) -> Self:
        keys = self.lookup_key_map()
        if self.lookup_key_id not in keys:
            raise ValueError(f"lookup_key_id {self.lookup_key_id!r} is not in lookup_keys")
        for name in ("start_limits_number", "start_limits_address", "verify_failure_limits_number"):
            self.windows(name)
        if self.apps_claim_lease_s < 4 * self.publish_deadline_s:
            # A writer gives up committing after half the lease; a publish must fit well inside.
            raise ValueError("apps_claim_lease_s must be at least 4 x publish_deadline_s")
        if self.development:
            return self
        secrets = {f"lookup key {k}": v.decode() for k, v in keys.items()}
        secrets |= {
            "otp_key": self.otp_key.get_secret_value(),
            "pairwise_secret": self.pairwise_secret.get_secret_value(),
        }
        for name, value in secrets.items():
            if value.startswith(DEV_SECRET_PREFIX) or len(value) < MIN_SECRET_CHARS:
                raise ValueError(
                    f"{name} must be a secret of at least {MIN_SECRET_CHARS} characters"
                )
        for name in ("user_token_keys", "oauth_access_token_keys", "oauth_id_token_keys"):
            setting: SecretStr = getattr(self, name)
            if any(
                part.strip().startswith(DEV_SECRET_PREFIX)
                for part in setting.get_secret_value().split(",")
            ):
                raise ValueError(f"{name} still has a development key")
        for caller, where in self.service_callers.items():
            if where.jwks_url:
                check_key_url(where.jwks_url, development=False, name=f"{caller} jwks_url")
        return self._production_only()

    @model_validator(mode="after")
    def _consent_is_reachable(self) -> Self:
        # OAuth authorize (H2): https outside development (loopback http in development).
        development = self.development
        for name in (
            "consent_url",
            "consent_api_url",
            "consent_issuer",
            "audit_url",
            "audit_api_url",
        ):
            if value := getattr(self, name):
                check_key_url(value, development=development, name=name)
        if not self.consent_jwks:
            check_key_url(self.consent_jwks_url, development=development, name="consent_jwks_url")
        return self

    @property
    def audit_call_url(self) -> str:
        """Where auth calls the audit (the dashboard's access report)."""
        return (self.audit_api_url or self.audit_url).rstrip("/")

    @property
    def audit_origin(self) -> str:
        """The audit's origin as the browser sees it (the dashboard's CSP `connect-src`)."""
        parts = urlsplit(self.audit_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def consent_check_url(self) -> str:
        """Where auth calls consent's check (README "OAuth 2.0: authorize")."""
        return (self.consent_api_url or self.consent_url).rstrip("/")

    def _production_only(self) -> Self:
        if self.sms_sender == "development":
            raise ValueError("sms_sender=development keeps codes in memory: development only")
        if not self.session_cookie_secure:
            raise ValueError("session cookies must be Secure outside development")
        if self.issuer == DEV_USER_TOKEN_ISSUER:
            raise ValueError("issuer still has its development default; set auth's https URL")
        check_key_url(self.issuer, development=False, name="issuer")
        return self


def _pairs(value: str) -> dict[str, bytes]:
    pairs: dict[str, bytes] = {}
    for part in value.split(","):
        key_id, sep, secret = part.strip().partition("=")
        if not sep or not key_id or not secret:
            raise ValueError("lookup_keys must be `id=secret` pairs, comma separated")
        pairs[key_id] = secret.encode()
    return pairs
