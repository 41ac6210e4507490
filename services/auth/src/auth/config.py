"""Settings of the auth service, from `AUTH_*` environment variables."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    """Everything the auth service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", frozen=True)

    service_name: str = "auth"
    http_port: int = 8001
