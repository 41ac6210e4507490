"""Every service starts against the real servers: health, OpenAPI, AsyncAPI, clean stop."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kits_testing import Servers

pytestmark = pytest.mark.integration
SERVICES = ["auth", "consent", "sound", "audit"]


def build(service: str, servers: Servers, **overrides: Any) -> FastAPI:
    config = importlib.import_module(f"{service}.config")
    main = importlib.import_module(f"{service}.main")
    settings_cls = getattr(config, f"{service.capitalize()}Settings")
    settings = settings_cls(
        environment="development",
        kafka_bootstrap_servers=servers.kafka,
        mongodb_url=servers.mongodb_url,
        mongodb_database=f"t_start_{service}",
        **overrides,
    )
    create_app: Callable[..., FastAPI] = main.create_app
    return create_app(settings)


async def consent_overrides(
    make_topic: Callable[..., Awaitable[str]], unique: Callable[[str], str]
) -> dict[str, Any]:
    """Consent consumes auth's events: a topic and group of the test's own, never the domain
    topic from its beginning."""
    topic = await make_topic(unique("t-start-auth-events"))
    return {"auth_events_topic": topic, "auth_events_group": unique("t-start-consent")}


@pytest.mark.parametrize("service", SERVICES)
async def test_service_is_ready_and_documents_its_http_and_events(
    service: str,
    servers: Servers,
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> None:
    extra = await consent_overrides(make_topic, unique) if service == "consent" else {}
    app = build(service, servers, **extra)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        live = (await client.get("/health/live")).json()
        assert live == {"status": "ok", "checks": {}, "reasons": []}
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        checks = {"kafka": True, "database": True}
        if service in ("audit", "consent", "auth", "sound"):  # every service consumes now
            checks["consumers"] = True
        assert ready.json() == {"status": "ok", "checks": checks, "reasons": []}
        openapi = (await client.get("/openapi.json")).json()
        assert "/health/ready" in openapi["paths"]
        asyncapi = (await client.get("/asyncapi.json")).json()
        assert asyncapi["asyncapi"] == "3.0.0"
        assert any(name.endswith(":publish") for name in asyncapi["channels"])


async def test_ready_is_503_with_the_reason_when_the_database_does_not_answer(
    servers: Servers, make_topic: Callable[..., Awaitable[str]], unique: Callable[[str], str]
) -> None:
    app = build("consent", servers, **await consent_overrides(make_topic, unique))
    app.state.container.runtime.client = _unreachable_client()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"kafka": True, "database": False, "consumers": True},
        "reasons": ["database does not answer"],
    }


def _unreachable_client() -> Any:
    from shared.mongo import make_client

    return make_client("mongodb://127.0.0.1:9/", app_name="t", timeout_ms=300)
