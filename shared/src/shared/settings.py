"""One Settings pattern for every service: typed, from the environment, dev secrets fenced off."""

from __future__ import annotations

import ipaddress
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_PREFIX = "dev-only-"


class ServiceSettings(BaseSettings):
    """Common settings; each service subclasses it with its own `env_prefix` (e.g. `AUDIT_`)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "production"] = "production"
    service_name: str = "service"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    kafka_client_id: str = ""
    # Durability of the topics a service creates (dead-letter topics included): 1/1 for the one
    # local broker; a cluster wants 3/2, so an acknowledged write survives the loss of a broker.
    kafka_replication_factor: int = Field(default=1, ge=1, le=16)
    kafka_min_insync_replicas: int = Field(default=1, ge=1, le=16)
    publish_deadline_s: float = Field(default=5.0, gt=0, le=120)
    # Failures that are not a record's own are retried for as long as they last: backoff from
    # `consumer_backoff_s` doubling up to `consumer_max_backoff_s`; a record holds the poll loop
    # at most `consumer_hold_s`, then is handed back and redelivered (the group is kept).
    consumer_backoff_s: float = Field(default=0.05, ge=0, le=30)
    consumer_max_backoff_s: float = Field(default=5.0, ge=0, le=60)
    consumer_hold_s: float = Field(default=30.0, gt=0, le=120)
    # A consumer group with lag whose committed offset has not moved for this long fails
    # readiness (a poison record or a stuck handler), so an orchestrator restarts or alerts.
    consumer_stall_s: float = Field(default=60.0, gt=0, le=3600)

    mongodb_url: SecretStr = SecretStr("mongodb://127.0.0.1:27018/")
    mongodb_database: str = ""

    @model_validator(mode="after")
    def _insync_replicas_fit_the_replication_factor(self) -> Self:
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            raise ValueError(
                f"kafka_min_insync_replicas ({self.kafka_min_insync_replicas}) exceeds "
                f"kafka_replication_factor ({self.kafka_replication_factor}): no write with "
                "acks=all could ever succeed"
            )
        return self

    @model_validator(mode="after")
    def _refuse_dev_secrets_outside_development(self) -> Self:
        if self.environment == "development":
            return self
        for name, value in self:
            if isinstance(value, SecretStr) and value.get_secret_value().startswith(
                DEV_SECRET_PREFIX
            ):
                raise ValueError(
                    f"{name} still has its development default; set it in the environment "
                    "(development defaults are refused outside ENVIRONMENT=development)"
                )
        return self

    @property
    def database_name(self) -> str:
        """The service's own database: one database per service."""
        return self.mongodb_database or self.service_name

    @property
    def client_id(self) -> str:
        """The Kafka client id, defaulting to the service name."""
        return self.kafka_client_id or self.service_name


DEV_USER_TOKEN_ISSUER = "http://127.0.0.1:8001"
"""Auth's address under `make up`: the user-token issuer only a development deployment may trust."""


def check_key_url(url: str, *, development: bool, name: str) -> str:
    """An https URL; in development also http to loopback or a one-label host (a compose name)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url
    if development and parts.scheme == "http" and host and _local(host):
        return url
    allowed = "https, or http to loopback in development" if development else "https only"
    raise ValueError(f"{name} must be an absolute {allowed} URL, not {url!r}")


def _local(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: `localhost`, or one label such as compose's `auth`
        return host == "localhost" or "." not in host


class UserTokenSettings(ServiceSettings):
    """A service that accepts the platform's user session tokens (signed by auth, see JWKS).

    Nothing configured (no JWKS, no URL): the service accepts no user tokens at all.
    """

    user_token_issuer: str = Field(default=DEV_USER_TOKEN_ISSUER, min_length=1, max_length=500)
    user_token_audience: str = Field(default="kits-platform", min_length=1, max_length=200)
    user_token_jwks: str = Field(default="", max_length=100_000)  # inline JWKS (JSON)
    user_token_jwks_url: str = Field(default="", max_length=2000)  # or where to fetch it
    user_token_jwks_refresh_s: float = Field(default=300.0, gt=0, le=86_400)
    user_token_jwks_min_refetch_s: float = Field(default=10.0, gt=0, le=3_600)

    @property
    def user_tokens_configured(self) -> bool:
        """Whether any user-token keys are configured (else no user token is accepted)."""
        return bool(self.user_token_jwks or self.user_token_jwks_url)

    @model_validator(mode="after")
    def _user_tokens_are_trustworthy(self) -> Self:
        if self.user_token_jwks and self.user_token_jwks_url:
            raise ValueError("set user_token_jwks or user_token_jwks_url, not both")
        if not self.user_tokens_configured:
            return self
        development = self.environment == "development"
        if self.user_token_jwks_url:
            check_key_url(
                self.user_token_jwks_url, development=development, name="user_token_jwks_url"
            )
        if development:
            return self
        if self.user_token_issuer == DEV_USER_TOKEN_ISSUER:
            raise ValueError(
                "user_token_issuer still has its development default; set auth's https issuer "
                "(development defaults are refused outside ENVIRONMENT=development)"
            )
        check_key_url(self.user_token_issuer, development=False, name="user_token_issuer")
        return self
