"""The browser kit's checks catch what they look for (so a clean result on a page means clean).

Each check runs in Debian's chromium on a small page made to fail it, next to one that passes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from playwright.async_api import Browser, Page

from kits_browser import (
    PHONE_VIEWPORT,
    axe_violations,
    chromium_path,
    focus_ring,
    horizontal_overflow,
    live_server,
    record_requests,
)
from kits_browser_fixtures import NewContext

GOOD = (
    '<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width">'
    "<title>Good</title></head><body><main><h1>Good</h1>"
    '<label for="f">Name</label><input id="f"></main></body></html>'
)


def pages(routes: dict[str, str]) -> Callable[..., Any]:
    """An ASGI app serving fixed HTML pages by path."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = routes.get(scope["path"])
        status, headers = (200, [(b"content-type", b"text/html")]) if body else (404, [])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": (body or "").encode()})

    return app


def test_chromium_is_debians() -> None:
    path = chromium_path()
    assert os.access(path, os.X_OK)
    assert path.startswith("/usr/")  # apt's, not a Playwright download under ~/.cache


async def test_the_browser_is_the_installed_chromium(browser: Browser) -> None:
    assert browser.browser_type.name == "chromium"
    assert browser.version.split(".")[0].isdigit()


async def test_a_request_to_another_origin_is_seen(new_context: NewContext) -> None:
    context = await new_context()
    log = record_requests(context)
    page = await context.new_page()
    async with live_server(pages({"/pixel": ""}), lifespan="off") as other:
        foreign = f"{other.replace('127.0.0.1', 'localhost')}/pixel"
        html = GOOD.replace("</main>", f'<img alt="" src="{foreign}"></main>')
        async with live_server(pages({"/": html}), lifespan="off") as site:
            await page.goto(f"{site}/")
            await page.wait_for_load_state("networkidle")

            assert log.foreign(site) == [foreign]
            assert log.foreign(site, other.replace("127.0.0.1", "localhost")) == []


async def test_axe_names_what_is_wrong(page: Page) -> None:
    bad = (
        "<!doctype html><html><head><title>Bad</title></head><body>"
        '<input id="f"><p style="color:#bbb;background:#fff">faint</p></body></html>'
    )
    async with live_server(pages({"/good": GOOD, "/bad": bad}), lifespan="off") as site:
        await page.goto(f"{site}/good")
        clean = await axe_violations(page)
        await page.goto(f"{site}/bad")
        found = await axe_violations(page)

    assert clean == []
    assert {line.split(" ")[0] for line in found} >= {"html-has-lang", "label", "color-contrast"}


async def test_a_page_wider_than_a_phone_and_a_hidden_focus_are_seen(
    new_context: NewContext,
) -> None:
    wide = GOOD.replace("<main>", '<main><div style="width:800px">wide</div>')
    hidden = GOOD.replace("<input", '<input style="outline:none"')
    context = await new_context(viewport=PHONE_VIEWPORT)
    page = await context.new_page()
    routes = {"/good": GOOD, "/wide": wide, "/hidden": hidden}
    async with live_server(pages(routes), lifespan="off") as site:
        await page.goto(f"{site}/good")
        fits = await horizontal_overflow(page)
        await page.keyboard.press("Tab")
        shown = await focus_ring(page)
        await page.goto(f"{site}/wide")
        overflow = await horizontal_overflow(page)
        await page.goto(f"{site}/hidden")
        await page.keyboard.press("Tab")
        unseen = await focus_ring(page)

    assert fits == 0
    assert overflow >= 800 - PHONE_VIEWPORT["width"]
    assert not shown.startswith("none"), shown
    assert unseen.startswith("none"), unseen
