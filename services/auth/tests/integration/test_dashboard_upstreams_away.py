"""The dashboard with consent and the audit unreachable: clear 503 pages, never a 500; what
auth does alone (the confirm step, account deletion) still works. Real broker and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from auth.entrypoints.http_dashboard import csrf_of
from auth.main import create_app
from auth_testing import ISSUER, auth_settings, log_in, random_number
from kits_browser import free_socket
from kits_testing import Servers

pytestmark = pytest.mark.integration


@pytest.fixture
async def http(
    servers: Servers, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[httpx.AsyncClient]:
    sock = free_socket()
    dead = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening: refused
    settings = auth_settings(servers, consent_url=dead, audit_url=dead, dashboard_timeout_s=2)
    app = create_app(settings)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as client,
        ):
            yield client
    finally:
        sock.close()
        await mongo_client.drop_database(settings.database_name)


def _is_503_page(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["retry-after"] == "1"
    assert "We could not reach your records just now" in answer.text


async def test_pages_say_try_again_and_deletion_still_works(http: httpx.AsyncClient) -> None:
    await log_in(http, random_number())
    csrf = csrf_of(http.cookies["kits_session"])
    _is_503_page(await http.get("/account"))
    _is_503_page(await http.get("/account/report.json"))
    _is_503_page(await http.get("/account/consents/cn_a/receipt"))
    _is_503_page(await http.post("/account/consents/cn_a/revoke", data={"csrf": csrf}))
    _is_503_page(await http.post("/account/revoke-all", data={"csrf": csrf}))
    confirm = await http.get("/account/delete")
    assert confirm.status_code == 200
    deleted = await http.post("/account/delete", data={"csrf": csrf, "confirm": "yes"})
    assert deleted.status_code == 200, deleted.text
    assert (await http.get("/v1/session")).status_code == 401
