"""Tunetown's pages in Debian's Chromium: labels, landmarks, 360 px, keyboard, no foreign requests,
and the revoked-access notice. The platform here is a small stand-in serving the Login Kit's
shapes (the real auth and consent are exercised by `make up`'s registration test)."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from standardwebhooks import Webhook

from demo_app.config import Settings
from demo_app.main import COOKIE, create_app
from demo_app.store import Store
from kits_browser import (
    PHONE_VIEWPORT,
    axe_violations,
    horizontal_overflow,
    live_server,
    record_requests,
    screenshot,
)
from kits_browser_fixtures import NewContext

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
STATE: dict[str, bool] = {"revoked": False}


def stand_in() -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    async def meta(request: Request) -> dict[str, str]:
        base = str(request.base_url).rstrip("/")
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "jwks_uri": f"{base}/oauth/jwks.json",
        }

    def refused() -> JSONResponse:
        return JSONResponse(
            {"data": {}, "error": {"code": "consent_revoked", "message": "revoked", "log_id": "x"}},
            status_code=403,
        )

    @app.get("/v2/user/info/")
    async def info() -> Any:
        if STATE["revoked"]:
            return refused()
        return {
            "data": {
                "user": {"open_id": "u1", "display_name": "Ada Lumen", "bio_description": "Synths"}
            },
            "error": {"code": "ok"},
        }

    @app.post("/v2/video/list/")
    async def videos() -> Any:
        if STATE["revoked"]:
            return refused()
        return {
            "data": {
                "videos": [{"id": "demo-000", "title": "Night bus", "duration": 12}],
                "cursor": None,
                "has_more": False,
            },
            "error": {"code": "ok"},
        }

    return app


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("tunetown")
    async with live_server(stand_in()) as auth:
        settings = Settings(
            environment="development",
            data_dir=data,
            auth_url=auth,
            webhook_secret=SECRET,
            client_id="c",
            client_secret="s",
        )
        async with live_server(create_app(settings)) as url:
            yield url, data


async def check_page(page: Any, name: str) -> None:
    assert await page.locator("main").count() == 1
    assert await page.locator("header").count() == 1
    assert await page.locator("nav").count() == 1
    for field in await page.locator("input:not([type=hidden])").all():
        fid = await field.get_attribute("id")
        assert fid
        assert await page.locator(f"label[for='{fid}']").count() == 1
    assert await horizontal_overflow(page) == 0
    assert await axe_violations(page) == [], name
    await screenshot(page, folder="demo-app", name=name)


async def test_pages_are_accessible_at_360_px_and_load_nothing_foreign(
    site: tuple[str, Path], new_context: NewContext
) -> None:
    url, data = site
    STATE["revoked"] = False
    context = await new_context(viewport=PHONE_VIEWPORT)
    requests = record_requests(context)
    page = await context.new_page()
    await page.goto(url)
    assert "Log in with the platform" in await page.inner_text("main")
    await check_page(page, "welcome")

    Store(data).bind_session(session_id="sid-1", open_id="u1")
    Store(data).save_token(
        open_id="u1",
        token={"access_token": "a", "refresh_token": "r", "expires_at": time.time() + 3600},
    )
    await context.add_cookies([{"name": COOKIE, "value": "sid-1", "url": url}])
    await page.goto(url)
    text = await page.inner_text("main")
    assert "Hello, Ada Lumen" in text
    assert "Night bus" in text
    await check_page(page, "home")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.tagName") == "A"

    STATE["revoked"] = True
    await page.goto(url)
    assert "Access was revoked by the user" in await page.inner_text("[role=alert]")
    assert Store(data).token("u1") is None  # dropped
    await check_page(page, "revoked")

    body = json.dumps(
        {
            "type": "consent.deletion_requested",
            "data": {"request_id": "del_b", "subject": "u1", "reason": "user"},
        }
    )
    now = datetime.now(UTC)
    async with httpx.AsyncClient() as client:
        r = await client.post(
            f"{url}/webhooks/platform",
            content=body,
            headers={
                "webhook-id": "del_b",
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(SECRET).sign("del_b", now, body),
            },
        )
    assert r.status_code == 200
    await page.goto(f"{url}/deletions")
    assert "del_b" in await page.inner_text("li.deletion")
    await check_page(page, "deletions")

    await page.goto(f"{url}/callback?state=forged&code=x")
    assert "not started here" in await page.inner_text("[role=alert]")
    await check_page(page, "bad-callback")
    assert requests.foreign(url) == []
