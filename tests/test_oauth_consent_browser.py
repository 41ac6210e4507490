"""The authorization code flow in a real browser (Debian's Chromium via Playwright): an app
sends the browser to auth's authorize endpoint, the user logs in on the phone login page,
consents on the REAL consent screen, and lands back at the app with a code. Secure cookies, as
in production (Chromium keeps them on loopback http).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authorize_testing import pkce
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from oauth_stack import Stack, oauth_stack
from playwright.async_api import expect

from auth_browser import LiveAuth, submit_code, submit_phone
from auth_testing import random_number
from kits_browser import (
    axe_violations,
    free_socket,
    live_server,
    origin,
    record_requests,
    screenshot,
)
from kits_browser_fixtures import NewContext
from kits_testing import Servers

pytestmark = pytest.mark.integration
SHOTS = "oauth-authorize"


def the_app() -> FastAPI:
    """The third-party app's redirect URI, played by the test."""
    app = FastAPI()

    @app.get("/cb", response_class=HTMLResponse)
    async def back(request: Request) -> str:
        del request
        return '<!doctype html><html lang="en"><title>Tune Share</title><h1>Back at the app</h1>'

    return app


@pytest.fixture(scope="module")
async def site(servers: Servers) -> AsyncIterator[tuple[Stack, str]]:
    sock = free_socket()
    redirect = f"http://127.0.0.1:{sock.getsockname()[1]}/cb"
    async with (
        live_server(the_app(), lifespan="off", sock=sock),
        oauth_stack(servers, redirect_uris=(redirect,), secure_cookies=True) as stack,
    ):
        yield stack, redirect


def authorize_url(stack: Stack, redirect: str, **overrides: str) -> str:
    params: dict[str, Any] = {
        "response_type": "code",
        "client_id": stack.client_id,
        "redirect_uri": redirect,
        "scope": "openid user.info.basic video.list",
        "state": "browser-state",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
        **overrides,
    }
    return f"{stack.auth}/oauth/authorize?{urlencode(params)}"


async def test_login_then_consent_then_back_at_the_app_with_a_code(
    site: tuple[Stack, str], new_context: NewContext
) -> None:
    stack, redirect = site
    context = await new_context()
    requests = record_requests(context)
    page = await context.new_page()
    await page.goto(authorize_url(stack, redirect))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Log in with your phone")
    await screenshot(page, folder=SHOTS, name="1-login")
    phone = random_number()
    await submit_phone(page, phone)
    await submit_code(
        page, await LiveAuth(url=stack.auth, settings=stack.settings).last_code(phone)
    )
    # Logged in: back at the authorize endpoint, then on to the consent screen.
    await page.wait_for_url(f"{stack.consent.url}/consent?challenge=*")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Tune Share")
    await expect(page.get_by_text("See the list of your public videos")).to_be_visible()
    await screenshot(page, folder=SHOTS, name="2-consent")
    flow = [c for c in await context.cookies() if c["name"] == "kits_flow"]
    assert flow
    assert flow[0]["secure"]
    assert flow[0]["httpOnly"]
    assert flow[0]["sameSite"] == "Lax"
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url(f"{redirect}?*")
    await screenshot(page, folder=SHOTS, name="3-back-at-the-app")
    query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert (query["state"], query["iss"]) == ("browser-state", stack.auth)
    grant, _, _ = stack.codes.issued[query["code"]]
    assert grant.consent_version == 1
    assert not [c for c in await context.cookies() if c["name"] == "kits_flow"]  # cleared
    assert requests.foreign(origin(stack.auth), origin(stack.consent.url), origin(redirect)) == []

    # Consent given: the next sign-in of this app goes straight back, no screen.
    await page.goto(authorize_url(stack, redirect, state="again"))
    await page.wait_for_url(f"{redirect}?*")
    again = parse_qs(urlsplit(page.url).query)
    assert again["state"] == ["again"]
    assert again["code"][0] in stack.codes.issued


async def test_a_bad_redirect_uri_shows_an_accessible_error_page_and_goes_nowhere(
    site: tuple[Stack, str], new_context: NewContext
) -> None:
    stack, redirect = site
    context = await new_context()
    requests = record_requests(context)
    page = await context.new_page()
    answer = await page.goto(authorize_url(stack, redirect, redirect_uri=redirect + "/"))
    assert answer is not None
    assert answer.status == 400
    await expect(page.get_by_role("alert")).to_contain_text("not registered")
    assert await axe_violations(page) == []
    await screenshot(page, folder=SHOTS, name="4-bad-redirect-uri")
    assert requests.foreign(origin(stack.auth)) == []
