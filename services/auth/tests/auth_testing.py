"""Auth test helpers: settings on the real servers and the harness type."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from auth.bootstrap import Container
from auth.config import AuthSettings
from kits_testing import Servers

ISSUER = "https://auth.test"
CLIENT_HEADER = "x-test-client"  # the harness reads the client address from here


def auth_settings(servers: Servers, **overrides: Any) -> AuthSettings:
    """Development settings on the real servers, with a database of the test's own."""
    values: dict[str, Any] = {
        "environment": "development",
        "kafka_bootstrap_servers": servers.kafka,
        "mongodb_url": servers.mongodb_url,
        "mongodb_database": f"t_auth_{uuid.uuid4().hex[:12]}",
        "issuer": ISSUER,
        "client_address_header": CLIENT_HEADER,
        "publish_deadline_s": 10.0,
    }
    values.update(overrides)
    return AuthSettings(**values)


def new_address() -> dict[str, str]:
    """Headers that make a request come from a fresh client address (per-address limits)."""
    return {CLIENT_HEADER: f"198.51.100.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"}


@dataclass
class AuthHarness:
    """The auth app running against the real broker and database, and an HTTP client."""

    container: Container
    http: httpx.AsyncClient

    @property
    def settings(self) -> AuthSettings:
        return self.container.settings
