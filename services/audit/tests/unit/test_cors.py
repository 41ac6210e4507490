"""CORS for the privacy dashboard: the listed origins only, GET only, the Authorization header."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from audit.config import AuditSettings
from audit.main import create_app
from audit_testing import audit_settings
from kits_testing import Servers

DASHBOARD = "http://127.0.0.1:8001"
NOWHERE = Servers(kafka="127.0.0.1:1", mongodb_url="mongodb://127.0.0.1:1/")  # never connected


def _client(**overrides: Any) -> httpx.AsyncClient:
    app = create_app(audit_settings(NOWHERE, **overrides))  # builds, never connects
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit")


def _preflight(origin: str, *, method: str = "GET", headers: str = "authorization") -> Any:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


async def test_a_listed_origin_may_get_entries_with_a_bearer_token() -> None:
    async with _client(cors_origins=f"https://dash.example, {DASHBOARD}") as http:
        for path in ("/ledger/entries/e1?subject=u", "/ledger/checkpoints/latest", "/ledger/keys"):
            allowed = await http.options(path, headers=_preflight(DASHBOARD))
            assert allowed.status_code == 200, path
            assert allowed.headers["access-control-allow-origin"] == DASHBOARD
            assert allowed.headers["access-control-allow-methods"] == "GET"
            assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
            assert "access-control-allow-credentials" not in allowed.headers
        keys = await http.get("/ledger/keys", headers={"Origin": DASHBOARD})
        assert keys.status_code == 200
        assert keys.headers["access-control-allow-origin"] == DASHBOARD


async def test_another_origin_another_method_or_header_is_refused() -> None:
    async with _client(cors_origins=DASHBOARD) as http:
        for origin in ("http://127.0.0.1:9999", "http://localhost:8001", "null"):
            refused = await http.options("/ledger/entries/e1", headers=_preflight(origin))
            assert refused.status_code == 400, origin  # a preflight must be 2xx to pass
            assert "access-control-allow-origin" not in refused.headers, origin
        for method, header in (("POST", "authorization"), ("DELETE", ""), ("GET", "x-other")):
            asked = _preflight(DASHBOARD, method=method, headers=header)
            refused = await http.options("/ledger/entries/e1", headers=asked)
            assert refused.status_code == 400, (method, header)
            assert refused.headers["access-control-allow-methods"] == "GET"
        foreign = await http.get("/ledger/keys", headers={"Origin": "http://localhost:8001"})
        assert foreign.status_code == 200  # answered, but the browser keeps it from the page
        assert "access-control-allow-origin" not in foreign.headers


async def test_no_cors_headers_by_default() -> None:
    async with _client() as http:
        preflight = await http.options("/ledger/keys", headers=_preflight(DASHBOARD))
        assert preflight.status_code == 405
        keys = await http.get("/ledger/keys", headers={"Origin": DASHBOARD})
        assert not [h for h in keys.headers if h.startswith("access-control-")]


@pytest.mark.parametrize(
    "value",
    ["*", "http://127.0.0.1:8001/", "http://127.0.0.1:8001/dashboard", "127.0.0.1:8001", "ftp://x"],
)
def test_a_value_that_is_not_an_origin_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        audit_settings(NOWHERE, cors_origins=f"{DASHBOARD},{value}")


def test_outside_development_an_origin_must_be_https() -> None:
    seed = SecretStr(base64.b64encode(bytes(range(32))).decode())
    AuditSettings(environment="production", signing_key=seed, cors_origins="https://dash.example")
    with pytest.raises(ValidationError, match="must be https outside development"):
        AuditSettings(environment="production", signing_key=seed, cors_origins=DASHBOARD)
