"""The privacy dashboard in a real browser (Debian's Chromium via Playwright), on the real
stack: auth, the real consent service and the real audit, each serving HTTP on 127.0.0.1.

The user logs in by phone from the dashboard's own link, connects an app on the real consent
screen, sees the app and what it received (from the audit's access report, a violation
marked), verifies a transfer in the browser against the audit's ledger (ok), sees a tampered
proof fail, revokes the app and sees it revoked. Secure cookies, as in production.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from authorize_testing import pkce
from dashboard_stack import DashboardStack, dashboard_stack
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.async_api import Page, Route, expect

from auth_browser import LiveAuth, submit_code, submit_phone
from auth_testing import random_number
from kits_browser import (
    PHONE_VIEWPORT,
    axe_violations,
    focus_ring,
    free_socket,
    horizontal_overflow,
    live_server,
    origin,
    record_requests,
    screenshot,
)
from kits_browser_fixtures import NewContext
from kits_testing import Servers
from ledger_tamper import tamper_matrix

pytestmark = pytest.mark.integration
SHOTS = "dashboard"
IN_PAGE_TOKEN = """async () => {
  const token = await (await fetch('/v1/session/token', {method: 'POST'})).json();
  const session = await (await fetch('/v1/session')).json();
  return {token: token.access_token, user_key: session.user_key};
}"""


def the_app() -> FastAPI:
    app = FastAPI()

    @app.get("/cb", response_class=HTMLResponse)
    async def back() -> str:
        return '<!doctype html><html lang="en"><title>Tune Share</title><h1>Back at the app</h1>'

    return app


@pytest.fixture(scope="module")
async def site(servers: Servers) -> AsyncIterator[tuple[DashboardStack, str]]:
    sock = free_socket()
    redirect = f"http://127.0.0.1:{sock.getsockname()[1]}/cb"
    async with (
        live_server(the_app(), lifespan="off", sock=sock),
        dashboard_stack(servers, redirect_uris=(redirect,), secure_cookies=True) as stack,
    ):
        yield stack, redirect


def _authorize_url(dash: DashboardStack, redirect: str) -> str:
    params = {
        "response_type": "code",
        "client_id": dash.stack.client_id,
        "redirect_uri": redirect,
        "scope": "openid user.info.basic video.list",
        "state": "s",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
    }
    return f"{dash.auth}/oauth/authorize?{urlencode(params)}"


async def _log_in_from_dashboard(page: Page, dash: DashboardStack) -> None:
    await page.goto(f"{dash.auth}/account")
    assert "/login?next=/account" in page.url
    phone = random_number()
    await submit_phone(page, phone)
    auth = LiveAuth(url=dash.auth, settings=dash.stack.settings)
    await submit_code(page, await auth.last_code(phone))
    await page.wait_for_url(f"{dash.auth}/account")
    await expect(page.get_by_text("You have not connected any app.")).to_be_visible()


async def _connect_the_app(page: Page, dash: DashboardStack, redirect: str) -> None:
    await page.goto(_authorize_url(dash, redirect))
    await page.wait_for_url(f"{dash.stack.consent.url}/consent?challenge=*")
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url(f"{redirect}?*")


async def test_see_verify_tamper_and_revoke_in_the_browser(
    site: tuple[DashboardStack, str], new_context: NewContext
) -> None:
    dash, redirect = site
    context = await new_context()
    requests = record_requests(context)
    page = await context.new_page()
    await _log_in_from_dashboard(page, dash)
    await _connect_the_app(page, dash, redirect)

    await page.goto(f"{dash.auth}/account")
    who: dict[str, str] = await page.evaluate(IN_PAGE_TOKEN)
    (consent,) = [c for c in await dash.consents(who["token"]) if c["status"] == "active"]
    good = [await dash.record(user_key=who["user_key"], consent=consent) for _ in range(2)]
    bad = await dash.record(user_key=who["user_key"], consent=consent, terms="t-never-agreed")
    await dash.judged_and_covered(who["token"], [*good, bad])

    await page.reload()
    app = page.get_by_role("region", name="Tune Share")
    await expect(app.get_by_text("Status: active")).to_be_visible()
    await expect(app.get_by_text("See the list of your public videos")).to_be_visible()
    await expect(app.locator("ol.timeline li")).to_have_count(3)
    flagged = app.locator("li.violation")
    await expect(flagged).to_have_count(1)
    await expect(flagged).to_contain_text("Violation: terms mismatch")
    assert await axe_violations(page) == []
    await screenshot(page, folder=SHOTS, name="1-dashboard")

    await _verify(page, good[0].id, expect_text="Verified: entry")
    await _tamper_next_fetch(page, dash, good[1].id)
    await _verify(page, good[1].id, expect_text="Verification failed (leaf)")
    await screenshot(page, folder=SHOTS, name="2-verified-and-tampered")

    async with page.expect_navigation():
        await app.get_by_role("button", name="Revoke access for Tune Share").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Access revoked")
    await expect(page.get_by_role("status")).to_contain_text("Access revoked")
    assert await axe_violations(page) == []
    await screenshot(page, folder=SHOTS, name="3-revoked")
    await page.goto(f"{dash.auth}/account")
    await expect(app.get_by_text("Status: revoked")).to_be_visible()
    await expect(app.get_by_role("button", name="Revoke access for Tune Share")).to_have_count(0)
    allowed = (origin(dash.auth), origin(dash.audit), origin(dash.stack.consent.url))
    assert requests.foreign(*allowed, origin(redirect)) == []


async def _verify(page: Page, event_id: str, *, expect_text: str) -> None:
    button = page.locator(f'button.verify[data-event="{event_id}"]')
    await button.focus()
    assert await focus_ring(page) == "solid 3px"
    await page.keyboard.press("Enter")
    result = page.locator(f"#{await button.get_attribute('aria-describedby')}")
    await expect(result).to_contain_text(expect_text, timeout=20_000)


async def _tamper_next_fetch(page: Page, dash: DashboardStack, event_id: str) -> None:
    """The audit's answer for this entry reaches the page with one bit of its data flipped."""

    async def corrupt(route: Route) -> None:
        answer = await route.fetch()
        doc: dict[str, Any] = await answer.json()
        bad = dict(tamper_matrix(doc))["bit of data byte 0"]
        await route.fulfill(response=answer, body=json.dumps(bad))

    await page.route(f"{dash.audit}/ledger/entries/{event_id}*", corrupt)


async def test_the_dashboard_fits_a_phone_and_refuses_a_forged_session(
    site: tuple[DashboardStack, str], new_context: NewContext
) -> None:
    dash, _ = site
    context = await new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    await context.add_cookies(
        [{"name": "kits_session", "value": "forged", "url": dash.auth, "secure": True}]
    )
    page = await context.new_page()
    await page.goto(f"{dash.auth}/account")
    assert "/login?next=/account" in page.url  # a forged session is no session
    phone = random_number()
    await submit_phone(page, phone)
    auth = LiveAuth(url=dash.auth, settings=dash.stack.settings)
    await submit_code(page, await auth.last_code(phone))
    await page.wait_for_url(f"{dash.auth}/account")
    assert await horizontal_overflow(page) == 0
    assert await axe_violations(page) == []
    await screenshot(page, folder=SHOTS, name="phone-size-dashboard")
    await page.goto(f"{dash.auth}/account/delete")
    assert await horizontal_overflow(page) == 0
    assert await axe_violations(page) == []
    await screenshot(page, folder=SHOTS, name="phone-size-delete")
    missing = await page.goto(f"{dash.auth}/account/consents/cn_not_mine/receipt")
    assert missing is not None
    assert missing.status == 404
    await expect(page.get_by_role("alert")).to_contain_text("no consent with this id")
    assert await axe_violations(page) == []
    await screenshot(page, folder=SHOTS, name="phone-size-not-found")
