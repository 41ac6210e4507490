"""Tunetown against the real stack (`scripts/stack.py up`, native processes): log in by phone
through the Login Kit, allow on consent's screen, see the profile and videos, upload a sound,
open the platform's privacy dashboard, see the transfers, verify one in the browser, revoke
there, watch Tunetown be refused and say so, and receive the signed deletion request.
Chromium (Debian's) drives it; every page gets the shared checks (axe, 360 px, a screenshot)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from auth_browser import submit_code, submit_phone
from demo_app.store import Store
from kits_browser import PHONE_VIEWPORT, axe_violations, horizontal_overflow, screenshot
from kits_browser_fixtures import NewContext
from kits_testing import Servers

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
PORTS = {"auth": 19001, "consent": 19002, "sound": 19003, "audit": 19004}
DEMO = "http://127.0.0.1:19010"
AUTH = f"http://127.0.0.1:{PORTS['auth']}"
CONSENT = f"http://127.0.0.1:{PORTS['consent']}"
PHONE = "+442079460002"  # seed-demo's Bruno Vale (a drama number), used only through dev SMS
SHOTS = "demo-app-journey"


def stack(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts/stack.py"), action, "--services-only"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
async def running(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Store]:
    run = tmp_path_factory.mktemp("journey-run")
    env = {**os.environ, "STACK_RUN_DIR": str(run), "STACK_NATIVE": "1", "DEMO_HTTP_PORT": "19010"}
    for service, port in PORTS.items():
        prefix = service.upper()
        env[f"{prefix}_HTTP_PORT"] = str(port)
        env[f"{prefix}_KAFKA_BOOTSTRAP_SERVERS"] = servers.kafka
        env[f"{prefix}_MONGODB_URL"] = servers.mongodb_url
        env[f"{prefix}_MONGODB_DATABASE"] = f"t_journey_{service}_{os.getpid()}"
    env["AUDIT_LEDGER_GROUP"] = f"t-journey-{os.getpid()}"
    env["CONSENT_DELETION_POLL_S"] = "0.2"
    try:
        up = await asyncio.to_thread(stack, "up", env)
        assert up.returncode == 0, up.stdout + up.stderr
        store = Store(run / "demo-app")  # Tunetown's own SQLite, to look at its tokens
        yield store
        store.close()
    finally:
        down = await asyncio.to_thread(stack, "down", env)
        assert down.returncode == 0, down.stdout + down.stderr


async def last_code(phone: str) -> str:
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{AUTH}/dev/sms/last-code", json={"phone": phone})
    r.raise_for_status()
    return str(r.json()["code"])


async def checked(page: Page, name: str) -> None:
    assert await horizontal_overflow(page) == 0, name
    assert await page.locator("main").count() == 1, name
    assert await axe_violations(page) == [], name
    await screenshot(page, folder=SHOTS, name=name)


async def verify_in_the_browser(page: Page, app: Locator) -> None:
    """Press Verify on the first transfer until the audit has it under a signed checkpoint
    (checkpoints are every few seconds: before that the page says "Not verifiable yet")."""
    button = app.locator("button.verify").first
    result = page.locator(f"#{await button.get_attribute('aria-describedby')}")
    text = ""
    for _ in range(40):
        await button.click()
        await expect(result).to_contain_text(re.compile("Verified|Not verifiable|failed"))
        text = await result.inner_text()
        if text.startswith("Verified: entry"):
            return
        assert "Not verifiable yet" in text, text  # never "failed" for an honest ledger
        await asyncio.sleep(0.5)
    raise AssertionError(f"the transfer never verified in the browser: {text}")


async def test_the_whole_journey_through_tunetown(running: Store, new_context: NewContext) -> None:
    context = await new_context(viewport=PHONE_VIEWPORT)
    page = await context.new_page()
    await page.goto(DEMO)
    await checked(page, "1-welcome")
    await page.get_by_role("link", name="Log in with the platform").click()
    await page.wait_for_url(f"{AUTH}/login*")
    await submit_phone(page, PHONE)
    await submit_code(page, await last_code(PHONE))
    await page.wait_for_url(f"{CONSENT}/consent?challenge=*")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Tunetown")
    await checked(page, "2-consent")
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url(f"{DEMO}/")
    await expect(page.get_by_role("heading", name="Hello, Bruno Vale")).to_be_visible()
    assert await page.locator("#v + ul li").count() >= 1  # the seeded public videos
    await checked(page, "3-profile-and-videos")

    # The access token runs out: Tunetown refreshes it, and the refresh token rotates.
    (open_id,) = [row[0] for row in running._run("SELECT open_id FROM tokens").fetchall()]
    first = running.token(open_id)
    assert first is not None
    running.save_token(open_id=open_id, token={**first, "expires_at": 0})
    await page.goto(DEMO)
    await expect(page.get_by_role("heading", name="Hello, Bruno Vale")).to_be_visible()
    rotated = running.token(open_id)
    assert rotated is not None
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]

    await page.get_by_role("button", name="Upload").click()  # no file: Tunetown makes a tone
    await page.wait_for_load_state()
    uploaded = await page.inner_text("main")
    assert "Something went wrong" not in uploaded  # never a 500 page
    # Init, chunks, complete, and the status polled until the Sound Kit validated the tone.
    assert "ingested" in uploaded, uploaded
    await checked(page, "4-after-upload")

    # The platform's privacy dashboard (the same browser, so the same platform session): what
    # Tunetown got, a transfer verified by the page itself against the audit, then revoke.
    await page.goto(f"{AUTH}/account")
    app = page.get_by_role("region", name="Tunetown")
    await expect(app.get_by_text("Status: active")).to_be_visible()
    transfers = app.locator("ol.timeline li")
    await expect(transfers.first).to_be_visible()
    assert await transfers.count() >= 3  # the token response, the profile, the videos at least
    await checked(page, "5-dashboard")
    await verify_in_the_browser(page, app)
    await screenshot(page, folder=SHOTS, name="6-verified")
    async with page.expect_navigation():
        await app.get_by_role("button", name="Revoke access for Tunetown").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Access revoked")
    await checked(page, "7-dashboard-revoked")

    await page.goto(DEMO)
    await expect(page.get_by_role("alert")).to_contain_text("Access was revoked by the user")
    await checked(page, "8-demo-refused")
    assert running.token(open_id) is None  # the data API's 403: tokens dropped

    for _ in range(100):  # consent's dispatcher sends the signed request to the webhook
        await page.goto(f"{DEMO}/deletions")
        if await page.locator("li.deletion").count():
            break
        await asyncio.sleep(0.3)
    row = await page.inner_text("li.deletion")
    assert "del_" in row
    await checked(page, "9-deletion-received")
    assert open_id in row  # the request named Tunetown's own id for the user

    # A refresh after the revocation is invalid_grant: the same notice, tokens dropped. (After
    # the deletion request, which removed the session too: put both back as they were.)
    (sid,) = [c["value"] for c in await context.cookies(DEMO) if c["name"] == "tunetown_sid"]
    running.bind_session(session_id=sid, open_id=open_id)
    running.save_token(open_id=open_id, token={**rotated, "expires_at": 0})
    await page.goto(DEMO)
    await expect(page.get_by_role("alert")).to_contain_text("Access was revoked by the user")
    assert running.token(open_id) is None
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{DEMO}/health/ready")).json()["status"] == "ok"
