"""The consent screen and its hand-over on the real database (auth's part played by the tests)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import KeySet
from pymongo.asynchronous.database import AsyncDatabase

from consent.adapters.jose_handover import (
    CHALLENGE_AUDIENCE,
    CHALLENGE_TYP,
    VERDICT_TYP,
    ChallengeReader,
    ConsentSigner,
    verify_receipt,
)
from consent.adapters.mongo_answered import MongoAnsweredChallenges
from consent.entrypoints import http_screen
from consent.service.screen import ConsentScreen
from screen_testing import (
    APP,
    AUTH_ISSUER,
    CALLBACK,
    FORGER_KEY,
    FakeApps,
    FakeGrants,
    Flow,
    auth_jwks,
    challenge,
)
from shared.user_tokens import UserTokenVerifier

pytestmark = pytest.mark.integration
CONSENT = "https://consent.test"


@dataclass
class Settings:
    flow_cookie: str = "kits_flow"


@dataclass
class Host:
    screen: ConsentScreen
    signer: ConsentSigner
    settings: Settings


@dataclass
class Screen:
    http: httpx.AsyncClient
    grants: FakeGrants
    signer: ConsentSigner

    async def show(self, flow: Flow, *, cookie: str | None = "same") -> httpx.Response:
        return await self.http.get(
            "/consent", params={"challenge": flow.token}, headers=self._cookie(flow, cookie)
        )

    async def answer(
        self, flow: Flow, decision: str, *, cookie: str | None = "same"
    ) -> httpx.Response:
        return await self.http.post(
            "/consent",
            data={"challenge": flow.token, "decision": decision},
            headers=self._cookie(flow, cookie),
        )

    @staticmethod
    def _cookie(flow: Flow, cookie: str | None) -> dict[str, str]:
        if cookie is None:
            return {}
        return {"cookie": f"kits_flow={flow.nonce if cookie == 'same' else cookie}"}


@pytest.fixture
async def screen(db: AsyncDatabase[dict[str, Any]]) -> AsyncIterator[Screen]:
    verifier = UserTokenVerifier(
        issuer=AUTH_ISSUER,
        audience=CHALLENGE_AUDIENCE,
        jwks=auth_jwks(),
        typ=CHALLENGE_TYP,
        required=("jti", "iat"),
    )
    signer = ConsentSigner(seeds="dev-only-consent-test-key", issuer=CONSENT)
    grants = FakeGrants(signer=signer)
    app = FastAPI()
    app.state.container = Host(
        screen=ConsentScreen(
            challenges=ChallengeReader(verifier),
            apps=FakeApps(),
            grants=grants,
            answered=MongoAnsweredChallenges(db),
            signer=signer,
            allowed_returns=frozenset({CALLBACK}),
            jurisdiction="EU",
        ),
        signer=signer,
        settings=Settings(),
    )
    app.include_router(http_screen.router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=CONSENT
    ) as client:
        yield Screen(http=client, grants=grants, signer=signer)


def verdict_of(answer: httpx.Response, jwks: dict[str, Any]) -> dict[str, Any]:
    assert answer.status_code == 303, answer.text
    target = urlsplit(answer.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == CALLBACK
    query = parse_qs(target.query)
    token = jwt.decode(
        query["verdict"][0], KeySet.import_key_set(cast(Any, jwks)), algorithms=["Ed25519"]
    )
    assert token.header["typ"] == VERDICT_TYP
    claims: dict[str, Any] = token.claims
    claims["_state"] = query["state"][0]
    return claims


async def test_the_page_shows_app_scopes_terms_recipients_and_retention(screen: Screen) -> None:
    page = await screen.show(challenge())
    assert page.status_code == 200
    text = page.text
    assert APP.name in text
    assert "See the list of your public videos" in text  # a scope in plain words
    assert 'href="https://tunelab.example/terms/3"' in text
    assert "version 3" in text
    assert "Analytics Partner Ltd" in text
    assert "30 days" in text
    assert "<script" not in text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


async def test_allow_records_once_and_returns_a_signed_verdict_and_receipt(screen: Screen) -> None:
    flow = challenge()
    answer = await screen.answer(flow, "allow")
    jwks = (await screen.http.get("/.well-known/jwks.json")).json()
    claims = verdict_of(answer, jwks)
    assert claims["decision"] == "allow"
    assert claims["iss"] == CONSENT
    assert claims["aud"] == AUTH_ISSUER
    assert claims["sub"] == flow.claims["sub"]
    assert claims["challenge"] == flow.claims["jti"]
    assert claims["nonce_sha256"] == flow.claims["nonce_sha256"]
    assert claims["_state"] == flow.claims["state"]
    assert claims["consent_id"]
    assert claims["consent_version"] == 1
    assert len(screen.grants.granted) == 1
    receipt = answer.headers["consent-receipt"]
    document = verify_receipt(receipt, jwks)
    assert document["consentId"] == claims["consent_id"]
    assert document["piiControllers"][0]["piiController"] == APP.name
    assert document["services"][0]["purposes"][0]["thirdPartyName"] == list(APP.recipients)
    head, body, signature = receipt.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(ValueError, match="does not verify"):
        verify_receipt(f"{head}.{flipped}.{signature}", jwks)


async def test_deny_records_nothing_and_returns_a_refusal(screen: Screen) -> None:
    answer = await screen.answer(challenge(), "deny")
    claims = verdict_of(answer, (await screen.http.get("/.well-known/jwks.json")).json())
    assert claims["decision"] == "deny"
    assert "consent_id" not in claims
    assert "consent-receipt" not in answer.headers
    assert screen.grants.granted == []


@pytest.mark.parametrize(
    ("flow", "status", "words"),
    [
        (lambda: challenge(key=FORGER_KEY), 400, "not signed by the platform"),
        (lambda: challenge(age_s=200, lifetime_s=120), 410, "expired"),
        (lambda: challenge(lifetime_s=3600), 400, "longer than 5 minutes"),
        (lambda: challenge(return_to="https://evil.example/cb"), 400, "does not know"),
        (lambda: challenge(app_id="app-unknown"), 404, "not registered"),
        (lambda: challenge(scopes=("sound.share",)), 400, "not registered for"),
        (lambda: challenge(scopes=()), 400, "no scopes"),
        (lambda: challenge(nonce_sha256="abc"), 400, "nonce hash"),
        # Ids the consent's events could not carry (once a 500 after Allow, 1 run in 32).
        (lambda: challenge(pairwise_subject="_starts-with-underscore"), 400, "malformed"),
        (lambda: challenge(user_key="-dash"), 400, "malformed"),
        (lambda: challenge(pairwise_subject="+442079460001"), 400, "malformed"),
    ],
)
async def test_a_bad_challenge_gets_an_error_page_and_nothing_is_recorded(
    screen: Screen, flow: Any, status: int, words: str
) -> None:
    made = flow()
    for answer in (await screen.show(made), await screen.answer(made, "allow")):
        assert answer.status_code == status, answer.text
        assert words in answer.text
        assert 'role="alert"' in answer.text
    assert screen.grants.granted == []


async def test_a_leaked_link_in_another_browser_is_refused(screen: Screen) -> None:
    flow = challenge()
    for cookie in (None, "someone-elses-nonce"):
        assert (await screen.show(flow, cookie=cookie)).status_code == 403
        refused = await screen.answer(flow, "allow", cookie=cookie)
        assert refused.status_code == 403
        assert "another browser" in refused.text
    assert screen.grants.granted == []


async def test_a_challenge_is_answered_once(screen: Screen) -> None:
    flow = challenge()
    assert (await screen.answer(flow, "allow")).status_code == 303
    again = await screen.answer(flow, "deny")
    assert again.status_code == 409
    assert "already answered" in again.text
    assert (await screen.show(flow)).status_code == 409
    assert len(screen.grants.granted) == 1


async def test_16_concurrent_answers_of_one_challenge_record_one(screen: Screen) -> None:
    flow = challenge()
    answers = await asyncio.gather(*(screen.answer(flow, "allow") for _ in range(16)))
    assert sorted(a.status_code for a in answers) == [303] + [409] * 15
    assert len(screen.grants.granted) == 1


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 9000])
async def test_a_malformed_challenge_is_a_4xx(screen: Screen, token: str) -> None:
    answer = await screen.http.get("/consent", params={"challenge": token})
    assert 400 <= answer.status_code < 500
    assert screen.grants.granted == []


def test_the_challenge_typ_is_pinned() -> None:
    header = json.loads(
        __import__("base64").urlsafe_b64decode(challenge().token.split(".")[0] + "==")
    )
    assert header["typ"] == CHALLENGE_TYP
