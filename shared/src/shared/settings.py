"""One Settings pattern for every service: typed, from the environment, dev secrets fenced off."""

from __future__ import annotations

from typing import Literal, Self

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
    consumer_attempts: int = Field(default=3, ge=1, le=20)
    consumer_backoff_s: float = Field(default=0.05, ge=0, le=30)

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
