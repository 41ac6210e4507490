"""The consent callback's rules: a code only for the flow a verdict answers, in the browser
that started it, once; everything else an error page and nothing issued."""

from __future__ import annotations

from typing import Any

import pytest
from authorize_testing import (
    APP,
    ISSUER,
    REDIRECT,
    Flows,
    answer_of,
    challenge_claims,
    in_memory,
    page_of,
    request_params,
    verdict,
)
from joserfc.jwk import OKPKey

from auth.service.authorize import Outcome, Redirect


class Started:
    """One flow at the consent screen: its challenge, the browser's nonce and session."""

    def __init__(self, flows: Flows, claims: dict[str, Any], nonce: str, session: str) -> None:
        self.flows, self.claims, self.nonce, self.session = flows, claims, nonce, session

    async def back(
        self,
        token: str,
        *,
        nonce: str | None = "same",
        state: str | None = None,
        session: str | None = None,
    ) -> Outcome:
        return await self.flows.callback.answer(
            verdict=token,
            state=self.claims["state"] if state is None else state,
            cookie_nonce=self.nonce if nonce == "same" else nonce,
            session_token=self.session if session is None else session,
        )


@pytest.fixture
def flows() -> Flows:
    return in_memory()


async def start(flows: Flows, **params: str | None) -> Started:
    session = flows.sessions.login()
    outcome = await flows.authorize.authorize(
        params=request_params(state="app-state", nonce="n-1", **params),
        session_token=session,
        here="/",
    )
    assert isinstance(outcome, Redirect)
    assert outcome.flow_nonce
    return Started(flows, challenge_claims(outcome.location), outcome.flow_nonce, session)


def nothing_issued(flows: Flows) -> None:
    assert flows.codes.issued == {}


async def test_allow_issues_the_code_with_the_verdicts_consent_and_returns_to_the_app(
    flows: Flows,
) -> None:
    s = await start(flows, scope="openid user.info.basic")
    answer = answer_of(await s.back(verdict(s.claims)))
    assert answer["_to"] == REDIRECT
    assert (answer["state"], answer["iss"]) == ("app-state", ISSUER)
    grant, redirect_uri, _ = flows.codes.issued[answer["code"]]
    assert redirect_uri == REDIRECT
    assert (grant.consent_id, grant.consent_version, grant.terms_version) == (
        "cn_test",
        3,
        "2026-01",
    )
    assert grant.scopes == ("openid", "user.info.basic")
    assert grant.nonce == "n-1"
    assert grant.client_id == APP.client_id
    assert grant.pairwise_subject == s.claims["pairwise_subject"]
    assert flows.flows.flows == {}  # claimed


async def test_rfc6749_4_1_2_1_deny_is_access_denied_with_state_and_iss(flows: Flows) -> None:
    s = await start(flows)
    answer = answer_of(await s.back(verdict(s.claims, decision="deny")))
    assert (answer["error"], answer["state"], answer["iss"]) == (
        "access_denied",
        "app-state",
        ISSUER,
    )
    nothing_issued(flows)


async def test_a_forged_verdict_gets_an_error_page(flows: Flows) -> None:
    s = await start(flows)
    forger = OKPKey.generate_key("Ed25519", parameters={"kid": "test-consent-key"})
    shown = page_of(await s.back(verdict(s.claims, key=forger)))
    assert shown.status == 400
    nothing_issued(flows)
    # The real answer may still come: the flow and the browser's flow cookie stay.
    assert len(flows.flows.flows) == 1
    assert not shown.end_flow
    real = await s.back(verdict(s.claims))
    assert isinstance(real, Redirect)
    assert real.end_flow
    assert "code" in answer_of(real)


async def test_an_expired_verdict_gets_an_error_page(flows: Flows) -> None:
    s = await start(flows)
    assert page_of(await s.back(verdict(s.claims, age_s=600))).status == 410
    nothing_issued(flows)


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "https://other-auth.test"},
        {"iss": "https://other-consent.test"},
        {"challenge": "another-challenge"},
        {"sub": "uk_someone_else"},
        {"nonce_sha256": "0" * 64},
        {"scopes": ["user.info.basic", "video.list", "sound.upload"]},
        {"decision": "maybe"},
        {"consent_version": "3"},
    ],
)
async def test_a_verdict_for_another_request_gets_an_error_page(
    flows: Flows, overrides: dict[str, Any]
) -> None:
    s = await start(flows)
    assert page_of(await s.back(verdict(s.claims, **overrides))).status == 400
    nothing_issued(flows)


async def test_a_reused_verdict_gets_an_error_page(flows: Flows) -> None:
    s = await start(flows)
    token = verdict(s.claims)
    assert isinstance(await s.back(token), Redirect)
    again = page_of(await s.back(token))
    assert again.status == 410
    assert again.end_flow  # that flow is over: its cookie goes
    assert len(flows.codes.issued) == 1


@pytest.mark.parametrize("nonce", [None, "", "someone-elses-nonce"])
async def test_another_browser_gets_an_error_page(flows: Flows, nonce: str | None) -> None:
    s = await start(flows)
    shown = page_of(await s.back(verdict(s.claims), nonce=nonce))
    assert shown.status == 403
    assert "another browser" in shown.message
    nothing_issued(flows)


async def test_a_verdict_with_another_flows_state_gets_an_error_page(flows: Flows) -> None:
    first, second = await start(flows), await start(flows)
    token = verdict(first.claims)
    assert page_of(await first.back(token, state=second.claims["state"])).status == 400
    nothing_issued(flows)


async def test_after_logout_the_verdict_issues_nothing(flows: Flows) -> None:
    s = await start(flows)
    flows.sessions.sessions.clear()
    assert page_of(await s.back(verdict(s.claims))).status == 403
    nothing_issued(flows)


async def test_an_expired_flow_issues_nothing(flows: Flows) -> None:
    s = await start(flows)
    clock = flows.authorize.clock
    flows.authorize.clock = lambda: clock() + 121
    assert page_of(await s.back(verdict(s.claims))).status == 410
    nothing_issued(flows)


@pytest.mark.parametrize(
    ("token", "state"), [("", "s"), ("x", ""), ("garbage", "s"), ("a.b.c", "s"), ("x" * 9000, "s")]
)
async def test_a_malformed_callback_gets_an_error_page(
    flows: Flows, token: str, state: str
) -> None:
    outcome = await flows.callback.answer(
        verdict=token, state=state, cookie_nonce="n", session_token=""
    )
    assert page_of(outcome).status == 400


async def test_storage_away_at_the_callback_is_a_503_page_and_nothing_issued(flows: Flows) -> None:
    s = await start(flows)

    async def away(flow_id: str) -> None:
        raise ConnectionError("database away")

    flows.flows.get = away  # type: ignore[method-assign]
    shown = await s.back(verdict(s.claims))
    assert not isinstance(shown, Redirect)
    assert shown.status == 503
    nothing_issued(flows)
