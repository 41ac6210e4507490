"""Auth in a real browser: the app as a live HTTP server, and the login page driven step by step.

Later page tests (the consent screen, the dashboard, the demo app's journey) log in with
`log_in_by_phone` on a `LiveAuth`, exactly as a person would.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.async_api import Page, Response, expect
from pymongo import AsyncMongoClient

from auth.config import AuthSettings
from auth.main import create_app
from auth_testing import auth_settings
from kits_browser import live_server
from kits_testing import Servers

PHONE_LABEL = "Phone number, with country code"
CODE_LABEL = "The 6-digit code we sent you"


@dataclass(frozen=True)
class LiveAuth:
    """The auth app serving real HTTP on 127.0.0.1 (development mode, its own database)."""

    url: str
    settings: AuthSettings

    async def _dev_code(self, phone: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            response = await http.post("/dev/sms/last-code", json={"phone": phone})
        assert response.status_code in (200, 404), response.text
        return response

    async def last_code(self, phone: str) -> str:
        """The code the development sender kept for the number (`POST /dev/sms/last-code`)."""
        response = await self._dev_code(phone)
        assert response.status_code == 200, response.text
        code: str = response.json()["code"]
        return code

    async def code_was_sent(self, phone: str) -> bool:
        """Whether any code was sent to the number."""
        return (await self._dev_code(phone)).status_code == 200


@contextlib.asynccontextmanager
async def live_auth(servers: Servers, **overrides: Any) -> AsyncIterator[LiveAuth]:
    """Run auth on a free port of 127.0.0.1 until the block ends, then drop its database."""
    settings = auth_settings(servers, **overrides)
    try:
        async with live_server(create_app(settings)) as url:
            yield LiveAuth(url=url, settings=settings)
    finally:
        client: AsyncMongoClient[dict[str, Any]]
        async with AsyncMongoClient(servers.mongodb_url) as client:
            await client.drop_database(settings.database_name)


async def send_form(page: Page, *, button: str) -> Response:
    """Press a form's button; return the answer to the POST once the next page has loaded."""
    async with (
        page.expect_response(lambda r: r.request.method == "POST") as posted,
        page.expect_event("load"),
    ):
        await page.get_by_role("button", name=button).click()
    return await posted.value


async def submit_phone(page: Page, phone: str) -> Response:
    """Step 1: type the number and send the form."""
    await page.get_by_label(PHONE_LABEL).fill(phone)
    return await send_form(page, button="Send code")


async def submit_code(page: Page, code: str) -> Response:
    """Step 2: type the code and send the form."""
    await page.get_by_label(CODE_LABEL).fill(code)
    return await send_form(page, button="Log in")


async def log_in_by_phone(page: Page, auth: LiveAuth, *, phone: str, start: str = "/login") -> None:
    """The whole phone login in the page: open `start`, send the number, then the code."""
    await page.goto(f"{auth.url}{start}")
    await submit_phone(page, phone)
    await expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    await submit_code(page, await auth.last_code(phone))
