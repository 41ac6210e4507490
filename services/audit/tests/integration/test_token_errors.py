"""Bad bearer tokens are a 401 with a challenge, never a 503 or a 500, whatever is configured."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from audit.main import create_app
from audit_testing import AS_AUDITOR, audit_settings, new_user, user_token
from kits_testing import Servers

pytestmark = pytest.mark.integration
ROUTES = ("/reports/me", "/ledger/entries/019ad4e5-f6a7-7b8c-9d0e-1f2a3b4c5d6e")
MALFORMED = {
    "not bearer": "Basic abc",
    "empty bearer": "Bearer ",
    "garbage": "Bearer not-a-token",
    "three dots": "Bearer a.b.c",
    "unsigned": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
}


def nothing_listens() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/.well-known/jwks.json"


async def client(servers: Servers, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    # The routes' token checks need no consumer running: the app is not started.
    app = create_app(audit_settings(servers, **overrides))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://audit") as http:
        yield http


@pytest.fixture
async def unconfigured(servers: Servers) -> AsyncIterator[httpx.AsyncClient]:
    """No user-token keys configured, as `make up` runs it: no user token is accepted."""
    async for http in client(servers, user_token_jwks=""):
        yield http


@pytest.fixture
async def auth_away(servers: Servers) -> AsyncIterator[httpx.AsyncClient]:
    """A JWKS URL, but auth has not answered since the start: keys were never fetched."""
    async for http in client(servers, user_token_jwks="", user_token_jwks_url=nothing_listens()):
        yield http


async def get(http: httpx.AsyncClient, route: str, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await http.get(route, headers=headers)


def assert_challenged(response: httpx.Response, what: str) -> None:
    assert response.status_code == 401, (what, response.status_code, response.text)
    assert response.headers["WWW-Authenticate"].startswith("Bearer"), what
    assert response.json()["detail"], what


@pytest.mark.parametrize("route", ROUTES)
async def test_with_no_keys_configured_every_user_token_is_a_401(
    unconfigured: httpx.AsyncClient, route: str
) -> None:
    for name, authorization in {**MALFORMED, "no header": None}.items():
        assert_challenged(await get(unconfigured, route, authorization), name)
    well_formed = f"Bearer {user_token(new_user())}"
    response = await get(unconfigured, route, well_formed)
    assert_challenged(response, "well-formed")
    assert "not accepted here" in response.json()["detail"]


@pytest.mark.parametrize("route", ROUTES)
async def test_keys_never_fetched_is_a_503_only_for_a_well_formed_token(
    auth_away: httpx.AsyncClient, route: str
) -> None:
    for name, authorization in {**MALFORMED, "no header": None}.items():
        assert_challenged(await get(auth_away, route, authorization), name)
    response = await get(auth_away, route, f"Bearer {user_token(new_user())}")
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1


async def test_auditors_are_served_whatever_the_user_token_keys(
    unconfigured: httpx.AsyncClient, auth_away: httpx.AsyncClient
) -> None:
    for http in (unconfigured, auth_away):
        response = await http.get(ROUTES[1], headers=AS_AUDITOR)
        assert response.status_code == 404, response.text  # past the token check: no such entry


async def test_a_good_user_token_reads_its_report(servers: Servers) -> None:
    async for http in client(servers):  # the test JWKS inline, as the other audit tests use
        response = await get(http, ROUTES[0], f"Bearer {user_token(new_user())}")
        assert response.status_code == 200, response.text
        assert response.json()["transfers"] == []


async def test_the_openapi_document_declares_the_401_and_the_503(
    unconfigured: httpx.AsyncClient,
) -> None:
    paths = (await unconfigured.get("/openapi.json")).json()["paths"]
    for route in ("/reports/me", "/ledger/entries/{event_id}"):
        responses = paths[route]["get"]["responses"]
        assert "WWW-Authenticate" in responses["401"]["headers"], route
        assert "Retry-After" in responses["503"]["headers"], route
