"""`GET /oauth/authorize` and the consent callback over HTTP, on the real broker and database,
with a session from a real phone login and an app from the real registry. The codes store
(H1's) and the consent check are fakes of auth's own ports here; the tests through the real
consent service are in the top-level tests/test_oauth_consent.py."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from apps_testing import new_developer, register
from authorize_testing import CONSENT, CONSENT_JWKS, ISSUER, pkce, verdict
from oauth_fakes import FakeAuthorizationCodes, FakeConsentCheck
from pymongo import AsyncMongoClient

from auth.bootstrap import Container
from auth.domain.grants import ConsentAnswer
from auth.main import create_app
from auth_testing import AuthHarness, auth_settings, log_in, random_number
from kits_testing import Servers

pytestmark = pytest.mark.integration
REDIRECT = "https://tunes.example/callback"


@dataclass
class Live:
    """Auth on the real servers, its fakes, one registered app and a logged-in client."""

    auth: AuthHarness
    codes: FakeAuthorizationCodes
    consent: FakeConsentCheck
    client_id: str
    user_key: str

    @property
    def http(self) -> httpx.AsyncClient:
        return self.auth.http

    def params(self, **overrides: str | None) -> dict[str, str]:
        values: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "scope": "user.info.basic video.list",
            "state": "app-state",
            "code_challenge": pkce()[1],
            "code_challenge_method": "S256",
            **overrides,
        }
        return {k: v for k, v in values.items() if v is not None}

    async def authorize(self, **overrides: str | None) -> httpx.Response:
        return await self.http.get("/oauth/authorize", params=self.params(**overrides))


@pytest.fixture
async def live(
    servers: Servers, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[Live]:
    settings = auth_settings(
        servers, consent_url=CONSENT, consent_issuer=CONSENT, consent_jwks=CONSENT_JWKS
    )
    codes, consent = FakeAuthorizationCodes(), FakeConsentCheck()
    app = create_app(settings, oauth_codes=codes)
    container: Container = app.state.container
    container.authorize.consent = consent
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as client,
    ):
        harness = AuthHarness(container=container, http=client)
        registered = await register(
            harness,
            await new_developer(harness),
            redirect_uris=[REDIRECT, "http://127.0.0.1:8765/cb"],
            allowed_scopes=["user.info.basic", "video.list"],
        )
        user_key = await log_in(client, random_number())
        yield Live(harness, codes, consent, registered["app"]["client_id"], user_key)
    await mongo_client.drop_database(settings.database_name)


def query_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def test_without_a_session_the_user_goes_to_the_login_page_and_back(live: Live) -> None:
    live.http.cookies.clear()
    first = await live.authorize()
    assert first.status_code == 303
    location = first.headers["location"]
    assert location.startswith("/login?next=%2Foauth%2Fauthorize%3F")
    login_page = await live.http.get(location)
    assert login_page.status_code == 200
    next_url = parse_qs(urlsplit(location).query)["next"][0]
    assert f'value="{next_url.replace("&", "&amp;")}"' in login_page.text  # the page keeps it
    await log_in(live.http, random_number())
    back = await live.http.get(next_url)
    assert back.headers["location"].startswith(f"{CONSENT}/consent?challenge=")


async def test_the_hand_over_sets_the_flow_cookie_and_stores_the_flow(live: Live) -> None:
    answer = await live.authorize()
    assert answer.headers["location"].startswith(f"{CONSENT}/consent?challenge=")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("kits_flow=")
    for attribute in ("HttpOnly", "Max-Age=120", "Path=/", "SameSite=lax", "Secure"):
        assert attribute in cookie
    assert answer.headers["cache-control"] == "no-store"
    nonce = cookie.split(";")[0].split("=", 1)[1]
    flows = live.auth.container.runtime.db["oauth_flows"]
    stored = await flows.find_one({"nonce_sha256": hashlib.sha256(nonce.encode()).hexdigest()})
    assert stored is not None
    assert stored["user_key"] == live.user_key
    assert nonce not in str(stored)


async def test_consent_covers_the_request_the_code_comes_at_once(live: Live) -> None:
    live.consent.answers[(live.user_key, live.client_id)] = ConsentAnswer(
        True, "covered", consent_id="cn_x", version=4, terms_version="2026-01"
    )
    _, challenge = pkce()
    query = query_of(await live.authorize(code_challenge=challenge, scope="openid,video.list"))
    assert (query["state"], query["iss"]) == ("app-state", ISSUER)
    grant, redirect_uri, bound = live.codes.issued[query["code"]]
    assert (redirect_uri, bound, grant.consent_version) == (REDIRECT, challenge, 4)
    assert grant.scopes == ("openid", "video.list")


async def test_rfc9700_2_1_a_bad_redirect_uri_over_http_is_an_error_page(live: Live) -> None:
    for uri in (REDIRECT + "/", REDIRECT + "?x=1", "https://evil.example/callback", None):
        answer = await live.authorize(redirect_uri=uri)
        assert answer.status_code == 400
        assert "location" not in answer.headers
        assert 'role="alert"' in answer.text
        assert answer.headers["content-type"].startswith("text/html")


async def test_rfc7636_4_4_1_plain_over_http_is_an_error_redirect(live: Live) -> None:
    query = query_of(await live.authorize(code_challenge_method="plain"))
    assert (query["error"], query["state"], query["iss"]) == (
        "invalid_request",
        "app-state",
        ISSUER,
    )


async def start_flow(live: Live) -> tuple[dict[str, Any], str]:
    answer = await live.authorize(scope="openid video.list", nonce="oidc-nonce")
    token = parse_qs(urlsplit(answer.headers["location"]).query)["challenge"][0]
    import base64
    import json

    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims, answer.cookies["kits_flow"]


async def test_the_callback_issues_one_code_and_clears_the_flow_cookie(live: Live) -> None:
    claims, _ = await start_flow(live)
    answer = await live.http.get(
        "/oauth/consent/callback", params={"verdict": verdict(claims), "state": claims["state"]}
    )
    query = query_of(answer)
    assert urlsplit(answer.headers["location"]).path == "/callback"
    assert (query["state"], query["iss"]) == ("app-state", ISSUER)
    grant, _, _ = live.codes.issued[query["code"]]
    assert (grant.consent_id, grant.nonce, grant.user_key) == (
        "cn_test",
        "oidc-nonce",
        live.user_key,
    )
    assert 'kits_flow=""' in answer.headers["set-cookie"]
    assert "Max-Age=0" in answer.headers["set-cookie"]


async def test_16_concurrent_callbacks_with_one_verdict_issue_one_code(live: Live) -> None:
    claims, nonce = await start_flow(live)
    token = verdict(claims)
    cookies = {"kits_flow": nonce, "kits_session": live.http.cookies["kits_session"]}

    async def back() -> int:
        async with httpx.AsyncClient(
            transport=live.http._transport, base_url=ISSUER, cookies=cookies
        ) as c:
            r = await c.get(
                "/oauth/consent/callback", params={"verdict": token, "state": claims["state"]}
            )
        return r.status_code

    statuses = await asyncio.gather(*(back() for _ in range(16)))
    assert statuses.count(303) == 1, statuses
    assert set(statuses) <= {303, 409, 410}
    assert len(live.codes.issued) == 1


async def test_the_callback_in_another_browser_issues_nothing(live: Live) -> None:
    claims, _ = await start_flow(live)
    live.http.cookies.delete("kits_flow")
    answer = await live.http.get(
        "/oauth/consent/callback", params={"verdict": verdict(claims), "state": claims["state"]}
    )
    assert answer.status_code == 403
    assert "another browser" in answer.text
    assert live.codes.issued == {}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "client_id=%ff%fe&redirect_uri=%00",
        "client_id=" + "a" * 5000,
        "response_type=code&client_id=x&redirect_uri=https%3A%2F%2Ftunes.example%2Fcallback",
        "scope=%E2%80%AE&state=%0A",
    ],
)
async def test_bad_input_over_http_is_never_a_500(live: Live, query: str) -> None:
    for path in ("/oauth/authorize", "/oauth/consent/callback"):
        answer = await live.http.get(f"{path}?{query}")
        assert answer.status_code in (303, 400, 403, 410), (path, answer.status_code, answer.text)


async def test_bad_params_for_a_real_app_over_http_are_never_a_500(live: Live) -> None:
    weird = ["", "\x00", "%", "a" * 3000, "openid", "token", "plain", "\u202e", "none login"]
    for name in (
        "response_type",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "prompt",
    ):
        for value in weird:
            answer = await live.authorize(**{name: value})
            assert answer.status_code in (303, 400), (name, value, answer.text)
            if answer.status_code == 303:
                location = answer.headers["location"]
                assert location.startswith((REDIRECT, f"{CONSENT}/consent?", "/login?"))


async def test_a_forged_callback_does_not_end_the_browsers_flow(live: Live) -> None:
    claims, _ = await start_flow(live)
    from joserfc.jwk import OKPKey

    forger = OKPKey.generate_key("Ed25519", parameters={"kid": "test-consent-key"})
    forged = await live.http.get(
        "/oauth/consent/callback",
        params={"verdict": verdict(claims, key=forger), "state": claims["state"]},
    )
    assert forged.status_code == 400
    assert "set-cookie" not in forged.headers
    real = await live.http.get(
        "/oauth/consent/callback", params={"verdict": verdict(claims), "state": claims["state"]}
    )
    assert "code" in query_of(real)


async def test_oidc_3_1_2_1_the_request_may_be_a_form_post(live: Live) -> None:
    live.consent.answers[(live.user_key, live.client_id)] = ConsentAnswer(
        True, "covered", consent_id="cn_p", version=1, terms_version="2026-01"
    )
    query = query_of(await live.http.post("/oauth/authorize", data=live.params(state="posted")))
    assert (query["state"], query["iss"]) == ("posted", ISSUER)
    assert query["code"] in live.codes.issued
    live.http.cookies.clear()
    to_login = await live.http.post("/oauth/authorize", data=live.params())
    next_url = parse_qs(urlsplit(to_login.headers["location"]).query)["next"][0]
    assert next_url.startswith("/oauth/authorize?response_type=code&client_id=")
    bad = await live.http.post(
        "/oauth/authorize", content=b"\xff\xfe", headers={"content-type": "text/plain"}
    )
    assert bad.status_code == 400  # no client named: the error page
