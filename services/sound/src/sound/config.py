"""Settings of the sound service, from `SOUND_*` environment variables."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SoundSettings(ServiceSettings):
    """Everything the sound service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SOUND_", extra="ignore", frozen=True)

    service_name: str = "sound"
    http_port: int = 8003
