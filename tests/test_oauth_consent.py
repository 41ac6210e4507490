"""The authorization code flow through the REAL consent service: auth and consent each serve
real HTTP on 127.0.0.1, a browser-like HTTP client follows every 303 itself and drives the
consent screen's HTML form. Auth is configured as it is deployed (consent's URL, its JWKS and
issuer), consent with auth's JWKS as its service caller `auth`, as the challenges' issuer and
with auth's callback. Only the codes store (H1's, not merged yet) is a fake of auth's port.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authorize_testing import pkce
from oauth_stack import Stack, oauth_stack

from auth_testing import log_in, random_number
from kits_testing import Servers

pytestmark = pytest.mark.integration
REDIRECT = "https://tunes.example/callback"


@pytest.fixture(scope="module")
async def stack(servers: Servers) -> AsyncIterator[Stack]:
    # An HTTP client on plain http sends no Secure cookie (browsers make an exception for
    # loopback; see the auth README): development allows non-Secure cookies.
    async with oauth_stack(servers, redirect_uris=(REDIRECT,), secure_cookies=False) as made:
        yield made


class Browser:
    """An HTTP client that keeps cookies like a browser and follows redirects one at a time."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = httpx.AsyncClient(base_url=stack.auth, timeout=30, follow_redirects=False)
        self.challenge = pkce()[1]

    async def authorize(self, **overrides: str) -> httpx.Response:
        params = {
            "response_type": "code",
            "client_id": self.stack.client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid user.info.basic video.list",
            "state": "app-state-1",
            "nonce": "oidc-nonce-1",
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            **overrides,
        }
        return await self.http.get("/oauth/authorize", params=params)

    async def screen(self, at_consent: httpx.Response, decision: str) -> httpx.Response:
        """Open the consent screen the 303 points to and press a button of its form."""
        assert at_consent.status_code == 303, at_consent.text
        location = at_consent.headers["location"]
        assert location.startswith(f"{self.stack.consent.url}/consent?challenge=")
        page = await self.http.get(location)
        assert page.status_code == 200, page.text
        assert "Tune Share" in page.text  # the app's name, from consent's read model
        form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page.text, re.S)
        assert form is not None
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form[2]))
        assert f'name="decision" value="{decision}"' in form[2]
        action = f"{self.stack.consent.url}{form[1]}"
        data = {k: unescape(v) for k, v in fields.items()} | {"decision": decision}
        return await self.http.post(action, data=data)

    async def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code == 303, response.text
        return await self.http.get(response.headers["location"])

    async def aclose(self) -> None:
        await self.http.aclose()


def app_query(response: httpx.Response) -> dict[str, str]:
    """What the app's redirect URI receives."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{REDIRECT}?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
async def browser(stack: Stack) -> AsyncIterator[Browser]:
    made = Browser(stack)
    yield made
    await made.aclose()


async def test_consent_screen_then_allow_issues_a_code_and_a_covered_consent_skips_the_screen(
    stack: Stack, browser: Browser
) -> None:
    user_key = await log_in(browser.http, random_number())
    first = await browser.authorize()
    assert "kits_flow" in browser.http.cookies
    back_at_auth = await browser.screen(first, "allow")
    assert back_at_auth.headers["location"].startswith(f"{stack.auth}/oauth/consent/callback?")
    query = app_query(await browser.follow(back_at_auth))
    assert (query["state"], query["iss"]) == ("app-state-1", stack.auth)
    grant, redirect_uri, challenge = stack.codes.issued[query["code"]]
    assert (redirect_uri, challenge) == (REDIRECT, browser.challenge)
    assert grant.user_key == user_key
    assert grant.client_id == stack.client_id
    assert grant.scopes == ("openid", "user.info.basic", "video.list")
    assert grant.consent_id.startswith("cn_")
    assert grant.consent_version == 1
    assert grant.terms_version == "2026-01"
    assert grant.nonce == "oidc-nonce-1"
    assert "kits_flow" not in browser.http.cookies  # cleared by the callback

    # The consent now covers the request: the next authorization needs no screen.
    again = app_query(await browser.authorize(state="app-state-2"))
    assert again["state"] == "app-state-2"
    covered, _, _ = stack.codes.issued[again["code"]]
    assert (covered.consent_id, covered.consent_version) == (grant.consent_id, 1)
    assert covered.pairwise_subject == grant.pairwise_subject


async def test_a_revoked_consent_sends_the_user_back_to_the_screen(
    stack: Stack, browser: Browser
) -> None:
    await log_in(browser.http, random_number())
    app_query(await browser.follow(await browser.screen(await browser.authorize(), "allow")))
    token = (await browser.http.post("/v1/session/token")).json()["access_token"]
    async with httpx.AsyncClient(base_url=stack.consent.url, timeout=20) as http:
        mine = await http.get("/v1/me/consents", headers={"Authorization": f"Bearer {token}"})
        (record,) = [c for c in mine.json()["consents"] if c["app_id"] == stack.client_id]
        revoked = await http.post(
            f"/v1/me/consents/{record['consent_id']}/revoke",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert revoked.status_code == 200, revoked.text
    issued = len(stack.codes.issued)
    after = await browser.authorize()  # right after the revoke call returned
    assert after.headers["location"].startswith(f"{stack.consent.url}/consent?challenge=")
    assert len(stack.codes.issued) == issued


async def test_deny_on_the_screen_is_access_denied_and_no_code(
    stack: Stack, browser: Browser
) -> None:
    await log_in(browser.http, random_number())
    issued = len(stack.codes.issued)
    query = app_query(await browser.follow(await browser.screen(await browser.authorize(), "deny")))
    assert (query["error"], query["state"], query["iss"]) == (
        "access_denied",
        "app-state-1",
        stack.auth,
    )
    assert len(stack.codes.issued) == issued


async def test_a_verdict_replayed_in_another_browser_issues_nothing(
    stack: Stack, browser: Browser
) -> None:
    await log_in(browser.http, random_number())
    back_at_auth = await browser.screen(await browser.authorize(), "allow")
    thief = httpx.AsyncClient(timeout=20)
    try:
        stolen = await thief.get(back_at_auth.headers["location"])
    finally:
        await thief.aclose()
    assert stolen.status_code == 403
    issued = len(stack.codes.issued)
    assert "code" in app_query(await browser.follow(back_at_auth))  # the real browser still can
    assert len(stack.codes.issued) == issued + 1
