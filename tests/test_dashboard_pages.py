"""The privacy dashboard's pages over HTTP on the real stack (auth, consent and the audit each
serving on 127.0.0.1): sessions, CSRF, someone else's ids, oversize forms, receipts, the JSON
report, revoke all, and account deletion with its event. Every refusal is an HTML page.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from apps_testing import EventsSince
from dashboard_stack import DashboardStack, dashboard_stack
from test_oauth_consent import REDIRECT, Browser

from auth_testing import log_in, random_number
from consent.adapters.jose_handover import verify_receipt
from kits_testing import Servers, eventually

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def dash(servers: Servers) -> AsyncIterator[DashboardStack]:
    async with dashboard_stack(servers, redirect_uris=(REDIRECT,), secure_cookies=False) as made:
        yield made


async def _connected(dash: DashboardStack) -> tuple[Browser, str, dict[str, Any]]:
    """A logged-in user who allowed the app on the real consent screen; their consent."""
    browser = Browser(dash.stack)
    user_key = await log_in(browser.http, random_number())
    await browser.follow(await browser.screen(await browser.authorize(), "allow"))
    (consent,) = await dash.consents(await _token(browser))
    return browser, user_key, consent


async def _token(browser: Browser) -> str:
    answer = await browser.http.post("/v1/session/token")
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert found is not None
    return found[1]


def _is_page(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in answer.headers["content-security-policy"]


async def test_no_or_a_forged_session_goes_to_the_login_page_and_back(
    dash: DashboardStack,
) -> None:
    forged = {"kits_session": "forged"}
    async with httpx.AsyncClient(base_url=dash.auth, timeout=20, cookies=forged) as http:
        for path in (
            "/account",
            "/account/report.json",
            "/account/delete",
            "/account/consents/x/receipt",
        ):
            answer = await http.get(path)
            assert answer.status_code == 303, (path, answer.text)
            assert answer.headers["location"].startswith("/login?next=/account")
        posted = await http.post("/account/revoke-all", data={"csrf": "0" * 64})
        assert (posted.status_code, posted.headers["location"]) == (303, "/login?next=/account")
        script = await http.get("/account/static/ledger-verify.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        _is_page(await http.get("/account/static/config.py"), 404)
        _is_page(await http.get("/account/consents/a/b/revoke"), 404)
        _is_page(await http.post("/account/nowhere"), 404)


async def test_the_dashboard_shows_the_app_its_receipt_and_the_report(
    dash: DashboardStack,
) -> None:
    browser, user_key, consent = await _connected(dash)
    event = await dash.record(user_key=user_key, consent=consent)
    await dash.judged_and_covered(await _token(browser), [event])
    page = await browser.http.get("/account")
    _is_page(page, 200)
    assert "Tune Share" in page.text
    assert "See the list of your public videos" in page.text
    assert f'data-event="{event.id}"' in page.text
    assert "Covered by your consent" in page.text
    assert dash.audit in page.headers["content-security-policy"]
    receipt = await browser.http.get(f"/account/consents/{consent['consent_id']}/receipt")
    assert receipt.status_code == 200
    assert receipt.headers["content-type"] == "application/jose"
    async with httpx.AsyncClient(base_url=dash.stack.consent.url, timeout=20) as http:
        jwks = (await http.get("/.well-known/jwks.json")).json()
    document = verify_receipt(receipt.text, jwks)
    assert json.dumps(document)  # verifies with consent's published keys
    report = await browser.http.get("/account/report.json")
    assert report.status_code == 200
    assert "attachment" in report.headers["content-disposition"]
    body = report.json()
    assert [r["event_id"] for r in body["access_report"]["transfers"]] == [event.id]
    assert [c["consent_id"] for c in body["consents"]] == [consent["consent_id"]]
    await browser.aclose()


async def test_forged_forms_and_someone_elses_ids_are_refused_with_a_page(
    dash: DashboardStack,
) -> None:
    alice, _, theirs = await _connected(dash)
    bob, _, mine = await _connected(dash)
    csrf = _csrf((await bob.http.get("/account")).text)
    other = f"/account/consents/{theirs['consent_id']}/revoke"
    _is_page(await bob.http.post(other, data={"csrf": csrf}), 404)  # alice's: as unknown
    _is_page(await bob.http.post("/account/consents/cn_nope/revoke", data={"csrf": csrf}), 404)
    _is_page(await bob.http.post("/account/consents/a.b/revoke", data={"csrf": csrf}), 404)
    _is_page(await bob.http.get(f"/account/consents/{theirs['consent_id']}/receipt"), 404)
    mine_path = f"/account/consents/{mine['consent_id']}/revoke"
    alice_csrf = _csrf((await alice.http.get("/account")).text)
    for bad in ({}, {"csrf": "0" * 64}, {"csrf": alice_csrf}, {"csrf": "x" * 100_000}):
        _is_page(await bob.http.post(mine_path, data=bad), 403)
    # Past the platform's 1 MiB body limit, a browser's form gets a page that says why.
    huge = await bob.http.post(
        mine_path, data={"csrf": csrf, "pad": "x" * 2**21}, headers={"accept": "text/html"}
    )
    assert huge.status_code == 413
    assert huge.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in huge.text
    [still] = await dash.consents(await _token(alice))
    assert still["status"] == "active"
    done = await bob.http.post(mine_path, data={"csrf": csrf})
    _is_page(done, 200)
    assert "Access revoked" in done.text
    assert "Tune Share" in done.text
    assert [c["status"] for c in await dash.consents(await _token(bob))] == ["revoked"]
    assert [c["status"] for c in await dash.consents(await _token(alice))] == ["active"]
    everything = await alice.http.post("/account/revoke-all", data={"csrf": alice_csrf})
    _is_page(everything, 200)
    assert [c["status"] for c in await dash.consents(await _token(alice))] == ["revoked"]
    again = await alice.http.post("/account/revoke-all", data={"csrf": alice_csrf})
    _is_page(again, 200)  # consent answers the same consents again: no new effect
    assert [c["status"] for c in await dash.consents(await _token(alice))] == ["revoked"]
    await alice.aclose()
    await bob.aclose()


async def test_deleting_the_account_publishes_the_event_and_ends_the_session(
    dash: DashboardStack,
) -> None:
    browser, user_key, consent = await _connected(dash)
    confirm = await browser.http.get("/account/delete")
    _is_page(confirm, 200)
    csrf = _csrf(confirm.text)
    _is_page(await browser.http.post("/account/delete", data={"csrf": csrf}), 400)
    since = await EventsSince(dash.stack.settings.kafka_bootstrap_servers).mark()
    token = await _token(browser)
    deleted = await browser.http.post("/account/delete", data={"csrf": csrf, "confirm": "yes"})
    _is_page(deleted, 200)
    assert "Your account is deleted" in deleted.text
    assert (await browser.http.get("/v1/session")).status_code == 401
    assert (await browser.http.get("/account")).status_code == 303
    found = await since.read(
        user_key, until=lambda got: any(e.type == "auth.user_deleted.v1" for e in got), settle_s=0.2
    )
    (event,) = [e for e in found if e.type == "auth.user_deleted.v1"]
    # Consent acts on the event (here handed to its own test topic, byte for byte).
    await dash.stack.consent.forward(value=event.to_bytes(), key=event.key())

    async def revoked() -> bool:
        return [c["status"] for c in await dash.consents(token)] == ["revoked"]

    await eventually(revoked, timeout_s=30)
    assert consent["consent_id"]
    await browser.aclose()
