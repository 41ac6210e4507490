"""The HTML login page (phone, then code) in a real browser: Debian's chromium via Playwright.

Auth serves real HTTP on 127.0.0.1 (development mode, the real broker and database); one
browser serves the whole session and every test gets a fresh context (its own cookies). Each
step's screenshot is kept under .local/screenshots/auth-login/.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from auth_browser import (
    CODE_LABEL,
    PHONE_LABEL,
    LiveAuth,
    live_auth,
    log_in_by_phone,
    send_form,
    submit_code,
    submit_phone,
)
from auth_testing import fictional_number, new_address
from kits_browser import (
    PHONE_VIEWPORT,
    RequestLog,
    axe_violations,
    focus_ring,
    horizontal_overflow,
    live_server,
    origin,
    record_requests,
    screenshot,
)
from kits_browser_fixtures import NewContext
from kits_testing import Servers

pytestmark = pytest.mark.integration
SHOTS = "auth-login"
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
async def site(servers: Servers) -> AsyncIterator[LiveAuth]:
    """One auth server for the module (Secure cookies: chromium keeps them on loopback http)."""
    async with live_auth(servers, session_cookie_secure=True) as auth:
        yield auth


@pytest.fixture
async def context(new_context: NewContext) -> BrowserContext:
    """A fresh browser context, from a client address of its own (per-address limits)."""
    return await new_context(extra_http_headers=new_address())


@pytest.fixture
def requests(context: BrowserContext) -> RequestLog:
    """Every request the test's browser context makes."""
    return record_requests(context)


def phone() -> str:
    """A fictional number no other test of this module uses (one code a minute per number)."""
    return fictional_number(next(_numbers))


async def test_phone_then_code_logs_in_and_the_session_works(
    page: Page, context: BrowserContext, site: LiveAuth, requests: RequestLog
) -> None:
    number = phone()
    await page.goto(f"{site.url}/login")
    await expect(page.get_by_role("heading", name="Log in with your phone")).to_be_visible()
    await page.get_by_label(PHONE_LABEL).fill(number)
    await screenshot(page, folder=SHOTS, name="01-phone")
    await page.get_by_role("button", name="Send code").click()

    await expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    code_step = await page.content()
    assert number.removeprefix("+1") not in code_step  # the number is not in the code step
    await page.get_by_label(CODE_LABEL).fill(await site.last_code(number))
    await screenshot(page, folder=SHOTS, name="02-code")
    await page.get_by_role("button", name="Log in").click()

    await expect(page).to_have_url(f"{site.url}/login/done")
    await expect(page.get_by_role("heading", name="You are logged in")).to_be_visible()
    await screenshot(page, folder=SHOTS, name="03-done")
    cookies = {c["name"]: c for c in await context.cookies()}
    session, csrf = cookies[site.settings.session_cookie], cookies["kits_csrf"]
    assert (session["secure"], session["httpOnly"], session["sameSite"]) == (True, True, "Lax")
    assert (csrf["secure"], csrf["httpOnly"], csrf["sameSite"]) == (True, True, "Strict")
    answer = await page.goto(f"{site.url}/v1/session")
    assert answer is not None
    assert answer.status == 200
    assert (await answer.json())["user_key"]
    assert requests.urls
    assert requests.foreign(site.url) == []


async def test_a_local_next_is_where_the_login_lands(
    page: Page, site: LiveAuth, requests: RequestLog
) -> None:
    await log_in_by_phone(
        page, site, phone=phone(), start="/login?next=/v1/session%3Fsince%3Dlogin"
    )

    await expect(page).to_have_url(f"{site.url}/v1/session?since=login")
    assert '"user_key"' in await page.content()
    assert requests.foreign(site.url) == []


@pytest.mark.parametrize(
    "target", ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"]
)
async def test_an_external_next_lands_on_login_done(
    page: Page, site: LiveAuth, requests: RequestLog, target: str
) -> None:
    await log_in_by_phone(page, site, phone=phone(), start=f"/login?next={target}")

    await expect(page).to_have_url(f"{site.url}/login/done")
    assert requests.foreign(site.url) == []


async def test_a_wrong_code_shows_an_error_and_stays_on_the_code_step(
    page: Page, site: LiveAuth, requests: RequestLog
) -> None:
    number = phone()
    await page.goto(f"{site.url}/login")
    await submit_phone(page, number)
    right = await site.last_code(number)
    wrong = "000000" if right != "000000" else "111111"

    sent = await submit_code(page, wrong)
    assert sent.status == 400
    alert = page.get_by_role("alert")
    await expect(alert).to_have_text("The code is wrong or has expired; ask for a new one.")
    await expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    field = page.get_by_label(CODE_LABEL)
    await expect(field).to_have_attribute("aria-describedby", "error")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_be_focused()
    await screenshot(page, folder=SHOTS, name="04-wrong-code")

    await submit_code(page, right)  # the same challenge still takes the right code
    await expect(page).to_have_url(f"{site.url}/login/done")
    assert requests.foreign(site.url) == []


@pytest.mark.parametrize(
    ("typed", "reason", "forms"),
    [
        ("+1 123 456 7890", "not in use", ["1234567890", "123 456 7890", "123-456-7890"]),
        ("+1 650 253 00", "wrong length", ["165025300", "650 253 00", "65025300"]),
        ("+44 77OO 9OO 123", "only digits", ["77OO", "9OO", "447700900123"]),
    ],
)
async def test_an_invalid_number_shows_the_reason_without_echoing_it(
    page: Page, site: LiveAuth, requests: RequestLog, typed: str, reason: str, forms: list[str]
) -> None:
    await page.goto(f"{site.url}/login")

    sent = await submit_phone(page, typed)
    assert sent.status == 422
    await expect(page.get_by_role("alert")).to_contain_text(reason)
    field = page.get_by_label(PHONE_LABEL)
    await expect(field).to_have_value("")
    await expect(field).to_be_focused()
    html = await page.content()
    assert [form for form in [typed, *forms] if form in html] == []
    await screenshot(page, folder=SHOTS, name=f"05-invalid-{typed}")
    assert requests.foreign(site.url) == []


def _attack_page(target: str, csrf: str, number: str) -> Callable[..., Any]:
    """A page of another site whose form posts a login (with the victim's real CSRF token)."""
    html = (
        '<!doctype html><html lang="en"><head><title>Win a prize</title></head><body>'
        f'<form method="post" action="{target}/login">'
        f'<input type="hidden" name="csrf" value="{csrf}">'
        f'<input type="hidden" name="phone" value="{number}">'
        '<button type="submit">Claim</button></form></body></html>'
    ).encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": html})

    return app


async def test_a_form_posted_from_another_site_is_refused(
    page: Page, site: LiveAuth, requests: RequestLog
) -> None:
    await page.goto(f"{site.url}/login")  # the victim's browser holds a CSRF cookie of the page
    csrf = await page.locator("input[name=csrf]").get_attribute("value")
    assert csrf
    number = phone()
    # localhost is another site than 127.0.0.1, so the SameSite=Strict cookie stays home.
    async with live_server(_attack_page(site.url, csrf, number), lifespan="off") as attacker:
        evil = attacker.replace("127.0.0.1", "localhost")
        await page.goto(evil)
        sent = await send_form(page, button="Claim")

    assert sent.url == f"{site.url}/login"
    assert sent.status == 403
    await expect(page.get_by_role("alert")).to_contain_text("This form expired")
    await screenshot(page, folder=SHOTS, name="06-cross-site-refused")
    assert not await site.code_was_sent(number)
    await submit_phone(page, number)  # the refusal is a fresh form of the site's own, which works
    await expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert requests.foreign(site.url, origin(evil)) == []


async def test_a_form_without_its_csrf_cookie_is_refused(
    page: Page, context: BrowserContext, site: LiveAuth
) -> None:
    await page.goto(f"{site.url}/login")
    await context.clear_cookies()  # as a browser that never got (or lost) the page's cookie
    number = phone()

    sent = await submit_phone(page, number)

    assert sent.status == 403
    assert not await site.code_was_sent(number)
    await expect(page.get_by_role("alert")).to_contain_text("This form expired")
    await expect(page.get_by_label(PHONE_LABEL)).not_to_have_attribute("aria-invalid", "true")
    await submit_phone(page, number)  # the refusal carries a new cookie: this time it goes through
    await expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert await site.code_was_sent(number)


async def test_the_csrf_cookie_is_secure_as_the_session_cookie_is(
    servers: Servers, page: Page, context: BrowserContext
) -> None:
    async with live_auth(servers, session_cookie_secure=False) as plain:
        await log_in_by_phone(page, plain, phone=phone())
        await expect(page).to_have_url(f"{plain.url}/login/done")
        cookies = {c["name"]: c for c in await context.cookies()}

    assert cookies["kits_csrf"]["secure"] is False
    assert cookies[plain.settings.session_cookie]["secure"] is False


async def test_the_page_works_by_keyboard(page: Page, site: LiveAuth, requests: RequestLog) -> None:
    number = phone()
    await page.goto(f"{site.url}/login")

    await page.keyboard.press("Tab")
    await expect(page.get_by_label(PHONE_LABEL)).to_be_focused()
    ring = await focus_ring(page)
    assert ring.startswith("solid"), ring
    await page.keyboard.type(number)
    await page.keyboard.press("Enter")

    await expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    code_field = page.get_by_label(CODE_LABEL)
    await expect(code_field).to_be_focused()  # the next step starts where the typing goes on
    await page.keyboard.type(await site.last_code(number))
    await page.keyboard.press("Enter")

    await expect(page).to_have_url(f"{site.url}/login/done")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Log out")).to_be_focused()
    ring = await focus_ring(page)
    assert ring.startswith("solid"), ring
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{site.url}/login")
    assert requests.foreign(site.url) == []


async def test_every_step_fits_a_phone_screen_and_passes_axe(
    new_context: NewContext, site: LiveAuth
) -> None:
    context = await new_context(
        viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, extra_http_headers=new_address()
    )
    requests = record_requests(context)
    page = await context.new_page()
    number = phone()
    problems: dict[str, dict[str, object]] = {}

    async def check(step: str) -> None:
        overflow, violations = await horizontal_overflow(page), await axe_violations(page)
        await screenshot(page, folder=SHOTS, name=f"phone-size-{len(problems) + 1:02d}-{step}")
        problems[step] = (
            {"overflow px": overflow, "axe": violations} if overflow or violations else {}
        )

    await page.goto(f"{site.url}/login")
    await check("phone")
    await submit_phone(page, "+1 123 456 7890")
    await check("phone-error")
    await submit_phone(page, number)
    await check("code")
    await submit_code(page, "000000" if await site.last_code(number) != "000000" else "111111")
    await check("code-error")
    await submit_code(page, await site.last_code(number))
    await expect(page).to_have_url(f"{site.url}/login/done")
    await check("done")

    assert list(problems) == ["phone", "phone-error", "code", "code-error", "done"]
    assert {step: seen for step, seen in problems.items() if seen} == {}
    assert requests.foreign(site.url) == []
