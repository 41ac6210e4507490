"""Settings of the consent service, from `CONSENT_*` environment variables."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ConsentSettings(ServiceSettings):
    """Everything the consent service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CONSENT_", extra="ignore", frozen=True)

    service_name: str = "consent"
    http_port: int = 8002
