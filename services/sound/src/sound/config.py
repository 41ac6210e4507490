"""Settings of the sound service, from `SOUND_*` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from shared.topics import CONSENT_EVENTS, SOUND_EVENTS, TRANSFER_EVENTS

MIB = 1024 * 1024


class SoundSettings(ServiceSettings):
    """Everything the sound service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SOUND_", extra="ignore", frozen=True)

    service_name: str = "sound"
    http_port: int = 8003
    # Where sound is reached by apps (the upload URL the init call returns is built on it).
    public_url: str = Field(default="http://127.0.0.1:8003", min_length=1, max_length=500)
    # Auth's resolve and consent's check (service to service).
    auth_url: str = Field(default="http://127.0.0.1:8001", min_length=1, max_length=500)
    consent_url: str = Field(default="http://127.0.0.1:8002", min_length=1, max_length=500)
    call_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # Sound's own service-token keys (base64 32-byte Ed25519 seeds, comma separated, first signs),
    # published at /.well-known/jwks.json for auth's and consent's *_SERVICE_CALLERS.
    service_token_keys: SecretStr = SecretStr("dev-only-sound-service-token-key-1")
    # Limits of one upload (README "Limits").
    max_total_bytes: int = Field(default=256 * MIB, ge=1)
    max_chunk_bytes: int = Field(default=64 * MIB, ge=1)
    min_chunk_bytes: int = Field(default=64 * 1024, ge=1)
    max_chunks: int = Field(default=1000, ge=1)
    max_duration_s: int = Field(default=15 * 60, ge=1)
    min_sample_rate: int = Field(default=8000, ge=1)
    max_sample_rate: int = Field(default=192_000, ge=1)
    max_channels: int = Field(default=2, ge=1)
    validation_workers: int = Field(default=2, ge=1, le=16)
    # An upload still receiving with no call for this long is swept (chunks deleted).
    abandon_after_s: float = Field(default=3600.0, gt=0)
    sweep_interval_s: float = Field(default=60.0, gt=0)
    temp_dir: str | None = None
    # Where sound's events go: its own (upload started, ingested, rejected) and the transfer
    # records of its share-outs; the contracts' topics unless a deployment (or bench) says.
    events_topic: str = Field(default=SOUND_EVENTS, pattern=r"^[A-Za-z0-9._-]{1,200}$")
    transfers_topic: str = Field(default=TRANSFER_EVENTS, pattern=r"^[A-Za-z0-9._-]{1,200}$")
    # consent.events: a revoked or invalidated consent ends the user's open uploads for that app.
    consent_events_topic: str = Field(default=CONSENT_EVENTS, pattern=r"^[A-Za-z0-9._-]{1,200}$")
    consent_events_group: str = Field(
        default="sound.consent-events", pattern=r"^[A-Za-z0-9._-]{1,200}$"
    )
