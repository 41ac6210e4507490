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
        # a group of the test's own: never the deployment's committed offsets
        "consent_events_group": f"t-auth-consent-{uuid.uuid4().hex[:10]}",
        "oauth_collection_shards": 4,  # each shard is a collection a fresh database creates
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


AREA_CODES = (201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218)


def fictional_number(n: int) -> str:
    """A fictional but valid number: NANP's 555-01XX, reserved for fiction (+1 AAA 555 01XX)."""
    area = AREA_CODES[(n // 100) % len(AREA_CODES)]
    return f"+1{area}55501{n % 100:02d}"


def random_number() -> str:
    """A random fictional test number (1,600 of them)."""
    return fictional_number(uuid.uuid4().int % 1600)


async def send_code(http: httpx.AsyncClient, phone: str, **headers: str) -> httpx.Response:
    """Ask for a code from a fresh client address (unless headers say otherwise)."""
    return await http.post(
        "/v1/login/start", json={"phone": phone}, headers={**new_address(), **headers}
    )


async def last_code(http: httpx.AsyncClient, phone: str) -> str:
    """The code the development sender kept for the number."""
    response = await http.post("/dev/sms/last-code", json={"phone": phone})
    assert response.status_code == 200, response.text
    code: str = response.json()["code"]
    return code


async def log_in(http: httpx.AsyncClient, phone: str) -> str:
    """A full phone login; returns the user key (the client keeps the session cookie)."""
    started = await send_code(http, phone)
    assert started.status_code == 202, started.text
    code = await last_code(http, phone)
    verified = await http.post(
        "/v1/login/verify", json={"challenge": started.json()["challenge"], "code": code}
    )
    assert verified.status_code == 200, verified.text
    user_key: str = verified.json()["user_key"]
    return user_key


def skip_ahead(harness: AuthHarness, seconds: float) -> None:
    """Move the login clock forward (past the once-a-minute limit of a number)."""
    clock = harness.container.login.clock
    harness.container.login.clock = lambda: clock() + seconds
