"""Settings of the example service, from `EXAMPLE_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ExampleSettings(ServiceSettings):
    """Everything the example reads from its environment (and what every service reads)."""

    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", extra="ignore", frozen=True)

    service_name: str = "example"
    http_port: int = 8009
    # The consumer group of the revoked-consents read model; its dead letters go to
    # `<group>.dlq`. A test gives each run a group of its own.
    consents_group: str = Field(default="example.consents", min_length=1, max_length=200)
    event_source: str = Field(default="/example", min_length=1, max_length=200)
