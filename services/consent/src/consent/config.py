"""Settings of the consent service, from `CONSENT_*` environment variables."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import UserTokenSettings, check_key_url
from shared.topics import AUTH_EVENTS, CONSENT_EVENTS

TOPIC = r"^[A-Za-z0-9._-]{1,200}$"


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

    # Auth's events (apps read model, terms changes, deleted users): topic and consumer group.
    auth_events_topic: str = Field(default=AUTH_EVENTS, pattern=TOPIC)
    auth_events_group: str = Field(default="consent.auth-events", pattern=TOPIC)

    # Service-to-service calls (the check): the services allowed to call, by name, each with
    # its published keys, e.g. {"auth": {"jwks_url": "https://auth/.well-known/service-jwks.json"}};
    # the `aud` their tokens must name. No callers: every service call is refused (401).
    service_callers: dict[str, CallerKeys] = Field(default_factory=dict)
    service_token_audience: str = Field(default="consent", min_length=1, max_length=200)

    @model_validator(mode="after")
    def _caller_urls_are_trustworthy(self) -> Self:
        development = self.environment == "development"
        for name, keys in self.service_callers.items():
            if keys.jwks_url:
                check_key_url(keys.jwks_url, development=development, name=f"{name} jwks_url")
        return self
