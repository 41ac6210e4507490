"""Settings of the consent service, from `CONSENT_*` environment variables."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import DEV_SECRET_PREFIX, UserTokenSettings, check_key_url


class ConsentSettings(UserTokenSettings):
    """Everything the consent service reads from its environment (auth's user-token keys
    included: they also sign the consent challenge)."""

    model_config = SettingsConfigDict(env_prefix="CONSENT_", extra="ignore", frozen=True)

    service_name: str = "consent"
    http_port: int = 8002

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
