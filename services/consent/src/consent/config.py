"""Settings of the consent service, from `CONSENT_*` environment variables."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import DEV_SECRET_PREFIX, UserTokenSettings, check_key_url
from shared.topics import AUTH_EVENTS, CONSENT_EVENTS

TOPIC = r"^[A-Za-z0-9._-]{1,200}$"
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


class ConsentSettings(UserTokenSettings):
    """Everything the consent service reads from its environment (user-token settings included)."""

    model_config = SettingsConfigDict(env_prefix="CONSENT_", extra="ignore", frozen=True)

    service_name: str = "consent"
    http_port: int = 8002

    # Records and events: where the consent events go, and how long an unpublished version is
    # taken for another writer's (in flight) before the next change publishes it itself.
    events_topic: str = Field(default=CONSENT_EVENTS, pattern=TOPIC)
    in_flight_s: float = Field(default=6.0, gt=0, le=300)
    # Versions and heads are each split over this many collections (FerretDB's `_id` finds
    # slow down with collection size); fixed for a deployment's life.
    collection_shards: int = Field(default=64, ge=1, le=256)
    # The check keeps each app's document this long (0: reads it on every check). The process
    # whose consumer saves a terms change sees it at once; other consent processes within this.
    app_fresh_s: float = Field(default=0.25, ge=0, le=5)

    # Auth's events (apps read model, terms changes, deleted users): topic and consumer group.
    auth_events_topic: str = Field(default=AUTH_EVENTS, pattern=TOPIC)
    auth_events_group: str = Field(default="consent.auth-events", pattern=TOPIC)

    # Service-to-service calls (the check): the services allowed to call, by name, each with
    # its published keys, e.g. {"auth": {"jwks_url": "https://auth/.well-known/service-jwks.json"}};
    # the `aud` their tokens must name. No callers: every service call is refused (401).
    service_callers: dict[str, CallerKeys] = Field(default_factory=dict)
    service_token_audience: str = Field(default="consent", min_length=1, max_length=200)

    # --- the consent screen, the hand-over and receipts (README "Hand-over") ---
    # Consent's public URL: the `iss` of its verdicts and receipts.
    issuer: str = Field(default="http://127.0.0.1:8002", min_length=1, max_length=500)
    # Ed25519 seeds (base64 of 32 bytes, comma separated) signing verdicts and receipts: the
    # first signs, all are published at /.well-known/jwks.json.
    signing_keys: SecretStr = SecretStr("dev-only-consent-signing-key-1")
    # Where a verdict may be sent: auth's consent callbacks (exact URLs, comma separated).
    auth_callback_urls: str = Field(
        default="http://127.0.0.1:8001/oauth/consent/callback", max_length=4000
    )
    # The cookie in which auth put the nonce a challenge is bound to (shared by auth and
    # consent: the same host, or a parent domain both serve under).
    flow_cookie: str = Field(default="kits_flow", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    jurisdiction: str = Field(default="EU", min_length=1, max_length=100)

    # Deletion requests (webhooks to apps after a revocation; README "Deletion requests").
    # HMAC key every app's webhook signing secret is derived from (never stored nor sent).
    webhook_key: SecretStr = SecretStr("dev-only-webhook-key")
    # How long an app is asked before the outcome is `no_answer`; the event's `deadline`.
    deletion_retry_budget_s: float = Field(default=72 * 3600, gt=0, le=30 * 86_400)
    # Gap after failed attempt n: min(cap, base * 2**(n-1)), less a random share up to `jitter`.
    deletion_backoff_s: float = Field(default=5.0, gt=0, le=3600)
    deletion_max_backoff_s: float = Field(default=3600.0, gt=0, le=86_400)
    deletion_jitter: float = Field(default=0.2, ge=0, lt=1)
    deletion_timeout_s: float = Field(default=10.0, gt=0, le=60)
    # A claimed attempt with no result after this long was lost (its instance stopped).
    deletion_claim_lease_s: float = Field(default=60.0, gt=0, le=3600)
    deletion_poll_s: float = Field(default=1.0, gt=0, le=60)
    deletion_concurrency: int = Field(default=8, ge=1, le=256)
    # The one caller of `POST /internal/apps/{app_id}/webhook-secret` and its inline JWKS.
    webhook_secret_caller: str = Field(default="auth", min_length=1, max_length=100)
    webhook_secret_caller_jwks: str = Field(default="", max_length=100_000)

    @property
    def callback_urls(self) -> frozenset[str]:
        """The exact URLs a verdict may go to."""
        return frozenset(u.strip() for u in self.auth_callback_urls.split(",") if u.strip())

    @model_validator(mode="after")
    def _screen_settings_are_usable(self) -> Self:
        development = self.environment == "development"
        for url in self.callback_urls:
            check_key_url(url, development=development, name="auth_callback_urls")
        if development:
            return self
        check_key_url(self.issuer, development=False, name="issuer")
        if any(
            part.strip().startswith(DEV_SECRET_PREFIX)
            for part in self.signing_keys.get_secret_value().split(",")
        ):
            raise ValueError("signing_keys still has a development key")
        return self

    @property
    def development(self) -> bool:
        """Whether this is a development deployment (dev secrets, http loopback webhooks)."""
        return self.environment == "development"

    @model_validator(mode="after")
    def _deletion_settings_fit(self) -> Self:
        if self.deletion_claim_lease_s <= self.deletion_timeout_s:
            raise ValueError("deletion_claim_lease_s must exceed deletion_timeout_s")
        if self.deletion_max_backoff_s < self.deletion_backoff_s:
            raise ValueError("deletion_max_backoff_s must be at least deletion_backoff_s")
        if not self.development and len(self.webhook_key.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"webhook_key must be a secret of at least {MIN_SECRET_CHARS} chars")
        return self

    @model_validator(mode="after")
    def _caller_urls_are_trustworthy(self) -> Self:
        development = self.environment == "development"
        for name, keys in self.service_callers.items():
            if keys.jwks_url:
                check_key_url(keys.jwks_url, development=development, name=f"{name} jwks_url")
        return self
