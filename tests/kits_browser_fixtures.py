"""Browser fixtures every page test shares (loaded by the root conftest.py as a plugin).

One chromium for the whole test session (launched on first use); each test gets fresh contexts
(their own cookies and storage), closed when it ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from kits_browser import launch_options

NewContext = Callable[..., Awaitable[BrowserContext]]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, driven by Playwright (installed by scripts/tools.py if missing)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(**launch_options())
        yield launched
        await launched.close()


@pytest.fixture
async def new_context(browser: Browser) -> AsyncIterator[NewContext]:
    """Make browser contexts (`browser.new_context` options); all are closed after the test."""
    made: list[BrowserContext] = []

    async def make(**options: Any) -> BrowserContext:
        context = await browser.new_context(**options)
        made.append(context)
        return context

    yield make
    for context in made:
        await context.close()


@pytest.fixture
async def context(new_context: NewContext) -> BrowserContext:
    """A fresh browser context for the test."""
    return await new_context()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    """A page in the test's context."""
    return await context.new_page()
