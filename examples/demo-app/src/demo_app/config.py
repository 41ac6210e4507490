"""Settings (`DEMO_*`), read only by `create_app()`."""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Tunetown's settings; the client secret and webhook secret have no usable default."""

    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")

    environment: str = "production"
    http_host: str = "127.0.0.1"
    http_port: int = 8010
    public_url: str = "http://127.0.0.1:8010"
    data_dir: Path = Path(".local/demo-app")
    auth_url: str = "http://127.0.0.1:8001"
    # Where the app itself reaches auth when that differs from the browser's URL (compose:
    # http://auth:8001): server-side calls go there, the browser still goes to the issuer.
    auth_api_url: str = ""
    sound_url: str = "http://127.0.0.1:8003"
    client_id: str = ""
    client_secret: str = ""
    webhook_secret: str = ""
    scopes: str = "openid user.info.basic user.info.profile video.list sound.upload"
    http_timeout_s: float = 10.0
    upload_chunk_size: int = 256 * 1024
    max_upload_bytes: int = 5 * 1024 * 1024

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/callback"

    @model_validator(mode="after")
    def _secrets_outside_development(self) -> Settings:
        if self.environment != "development" and not (
            self.client_id and self.client_secret and self.webhook_secret
        ):
            raise ValueError(
                "DEMO_CLIENT_ID, DEMO_CLIENT_SECRET and DEMO_WEBHOOK_SECRET are required"
            )
        return self
