"""The consent screen in a real browser (Debian's chromium via Playwright): allow and deny,
keyboard, a phone-sized screen, axe, no foreign requests, and a leaked link refused.

Consent serves real HTTP on 127.0.0.1; a tiny stand-in for auth's callback, on another port,
receives the browser afterwards. The tests play auth's part of the hand-over: they sign the
challenge and put its nonce in the flow cookie, as auth will (README "Hand-over").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from playwright.async_api import BrowserContext, Page, expect
from pymongo import AsyncMongoClient

from consent.adapters.mongo_apps import MongoApps
from consent.main import create_app
from consent_testing import (
    ISSUER,
    USER_TOKEN_KEY,
    FakeDeletionRequester,
    as_service,
    consent_settings,
    event_of,
    new_app,
    new_user,
    registered,
)
from kits_browser import (
    PHONE_VIEWPORT,
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
from screen_testing import Flow, challenge
from shared.events.envelope import CONTENT_TYPE
from shared.kafka.broker import make_broker
from shared.kafka.publisher import DurablePublisher
from shared.settings import ServiceSettings
from shared.topics import DOMAIN_PARTITIONS

pytestmark = pytest.mark.integration
SHOTS = "consent-screen"


@dataclass
class Site:
    """Consent over real HTTP (its own thread and loop: the test reaches it by HTTP and by
    clients of its own, never through the server's objects)."""

    consent: str
    callback: str
    register: Callable[[str], Awaitable[None]]
    answers: list[dict[str, list[str]]] = field(default_factory=list)

    async def allowed(self, user_key: str, app_id: str) -> bool:
        async with httpx.AsyncClient(base_url=self.consent) as client:
            answer = await client.post(
                "/v1/checks",
                json={"user_key": user_key, "app_id": app_id, "scopes": ["user.info.basic"]},
                headers=as_service(),
            )
        assert answer.status_code == 200, answer.text
        allowed: bool = answer.json()["allowed"]
        return allowed


def callback_app(site_answers: list[dict[str, list[str]]]) -> FastAPI:
    """Auth's consent callback, played by the test: keeps what the verdict redirect carried."""
    app = FastAPI()

    @app.get("/oauth/consent/callback", response_class=HTMLResponse)
    async def back(request: Request) -> str:
        site_answers.append(parse_qs(request.url.query))
        return (
            '<!doctype html><html lang="en"><title>Back at auth</title><p>Back at auth</p></html>'
        )

    return app


@pytest.fixture(scope="module")
async def site(
    servers: Servers,
    make_topic_module: Callable[..., Awaitable[str]],
) -> AsyncIterator[Site]:
    answers: list[dict[str, list[str]]] = []
    async with live_server(callback_app(answers), lifespan="off") as callback:
        events = await make_topic_module("t-consent-events", partitions=DOMAIN_PARTITIONS)
        auth_topic = await make_topic_module("t-auth-events", partitions=DOMAIN_PARTITIONS)
        settings = consent_settings(
            servers,
            events_topic=events,
            auth_events_topic=auth_topic,
            auth_callback_urls=f"{callback}/oauth/consent/callback",
        )
        app = create_app(settings, deletions=FakeDeletionRequester())
        broker = make_broker(
            ServiceSettings(environment="development", kafka_bootstrap_servers=servers.kafka)
        )
        await broker.start()
        producer = DurablePublisher(broker=broker, deadline_s=10)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url)
        apps = MongoApps(client[settings.database_name])
        try:
            async with live_server(app) as url:

                async def register(app_id: str) -> None:
                    event = event_of(registered(app_id))
                    await producer.publish_raw(
                        topic=auth_topic,
                        value=event.to_bytes(),
                        key=event.key(),
                        headers={"content-type": CONTENT_TYPE},
                    )
                    for _ in range(400):
                        if await apps.get(app_id) is not None:
                            return
                        await asyncio.sleep(0.05)
                    raise AssertionError("consent never saw the app")

                yield Site(url, callback, register, answers)
        finally:
            await broker.stop()
            await client.drop_database(settings.database_name)
            await client.close()


@pytest.fixture(scope="module")
def make_topic_module(servers: Servers) -> Callable[..., Awaitable[str]]:
    import uuid

    from shared.kafka.broker import ensure_topics
    from shared.topics import TopicSpec

    async def make(name: str, *, partitions: int) -> str:
        topic = f"{name}-{uuid.uuid4().hex[:8]}"
        spec = TopicSpec(topic, partitions, 3_600_000, "test")
        await ensure_topics(bootstrap_servers=servers.kafka, topics=[spec])
        return topic

    return make


async def opened(
    site: Site, context: BrowserContext, *, bound: bool = True
) -> tuple[Page, Flow, str]:
    """Auth's part: sign a challenge for a new user of a new app, set the flow cookie, open."""
    app_id = new_app()
    await site.register(app_id)
    made = challenge(
        key=USER_TOKEN_KEY,
        user_key=new_user(),
        app_id=app_id,
        scopes=("user.info.basic", "video.list"),
        iss=ISSUER,
        return_to=f"{site.callback}/oauth/consent/callback",
    )
    if bound:
        await context.add_cookies(
            [{"name": "kits_flow", "value": made.nonce, "url": site.consent, "httpOnly": True}]
        )
    page = await context.new_page()
    await page.goto(f"{site.consent}/consent?challenge={made.token}")
    return page, made, app_id


async def test_allow_in_the_browser_records_the_grant_and_returns_to_auth(
    site: Site, new_context: NewContext
) -> None:
    context = await new_context(viewport=PHONE_VIEWPORT)
    requests = record_requests(context)
    page, made, app_id = await opened(site, context)
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"App {app_id}")
    await expect(page.get_by_text("See the list of your public videos")).to_be_visible()
    await expect(page.get_by_text("analytics.example")).to_be_visible()
    assert await horizontal_overflow(page) == 0
    assert await axe_violations(page) == []
    await screenshot(page, folder=SHOTS, name="1-request")
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url(f"{site.callback}/oauth/consent/callback*")
    await screenshot(page, folder=SHOTS, name="2-back-at-auth")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == [made.claims["state"]]
    assert await site.allowed(made.claims["sub"], app_id)
    assert requests.foreign(origin(site.consent), origin(site.callback)) == []


async def test_deny_by_keyboard_records_nothing(site: Site, new_context: NewContext) -> None:
    context = await new_context()
    page, made, app_id = await opened(site, context)
    await page.keyboard.press("Tab")  # the terms link
    for _ in range(6):
        focused = await page.evaluate("document.activeElement.textContent")
        if focused == "Deny":
            break
        await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Deny"
    assert (await focus_ring(page)).startswith("solid")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{site.callback}/oauth/consent/callback*")
    assert not await site.allowed(made.claims["sub"], app_id)


async def test_a_leaked_link_in_another_browser_shows_an_error_page(
    site: Site, new_context: NewContext
) -> None:
    context = await new_context()
    page, _, _ = await opened(site, context, bound=False)
    await expect(page.get_by_role("alert")).to_contain_text("started in another browser")
    assert await axe_violations(page) == []
    await screenshot(page, folder=SHOTS, name="3-refused")
    assert await page.get_by_role("button", name="Allow").count() == 0
