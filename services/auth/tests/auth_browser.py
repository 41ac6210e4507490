"""Auth in a real browser: the app as a live HTTP server, and the login page driven step by step.

Later page tests (the consent screen, the dashboard, the demo app's journey) log in with
`log_in_by_phone` on a `LiveAuth`, exactly as a person would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from pymongo import MongoClient

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

    def last_code(self, phone: str) -> str:
        """The code the development sender kept for the number (`POST /dev/sms/last-code`)."""
        response = httpx.post(f"{self.url}/dev/sms/last-code", json={"phone": phone}, timeout=10)
        assert response.status_code == 200, response.text
        code: str = response.json()["code"]
        return code

    def code_was_sent(self, phone: str) -> bool:
        """Whether any code was sent to the number."""
        response = httpx.post(f"{self.url}/dev/sms/last-code", json={"phone": phone}, timeout=10)
        assert response.status_code in (200, 404), response.text
        return response.status_code == 200


@contextlib.contextmanager
def live_auth(servers: Servers, **overrides: Any) -> Iterator[LiveAuth]:
    """Run auth on a free port of 127.0.0.1 until the block ends, then drop its database."""
    settings = auth_settings(servers, **overrides)
    try:
        with live_server(create_app(settings)) as url:
            yield LiveAuth(url=url, settings=settings)
    finally:
        client: MongoClient[dict[str, Any]]
        with MongoClient(servers.mongodb_url) as client:
            client.drop_database(settings.database_name)


def submit_phone(page: Page, phone: str) -> None:
    """Step 1: type the number and send the form."""
    page.get_by_label(PHONE_LABEL).fill(phone)
    page.get_by_role("button", name="Send code").click()


def submit_code(page: Page, code: str) -> None:
    """Step 2: type the code and send the form."""
    page.get_by_label(CODE_LABEL).fill(code)
    page.get_by_role("button", name="Log in").click()


def log_in_by_phone(page: Page, auth: LiveAuth, *, phone: str, start: str = "/login") -> None:
    """The whole phone login in the page: open `start`, send the number, then the code."""
    page.goto(f"{auth.url}{start}")
    submit_phone(page, phone)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    submit_code(page, auth.last_code(phone))
    page.wait_for_load_state()
