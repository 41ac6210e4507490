"""The authorization request's rules, each test named after the rule it checks (RFC 6749,
RFC 7636, RFC 9700, RFC 9207, OpenID Connect Core), on the use case with in-memory fakes."""

from __future__ import annotations

from typing import Any

import pytest
from authorize_testing import (
    APP,
    CONSENT,
    ISSUER,
    OTHER,
    REDIRECT,
    Flows,
    answer_of,
    challenge_claims,
    in_memory,
    page_of,
    pkce,
    request_params,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.domain.grants import ConsentAnswer, ConsentUnavailable
from auth.service.authorize import ErrorPage, Outcome, Redirect

COVERED = ConsentAnswer(True, "covered", consent_id="cn_1", version=2, terms_version="2026-01")


@pytest.fixture
def flows() -> Flows:
    return in_memory()


async def ask(flows: Flows, params: list[tuple[str, str]], *, logged_in: bool = True) -> Outcome:
    token = flows.sessions.login() if logged_in else ""
    return await flows.authorize.authorize(
        params=params, session_token=token, here="/oauth/authorize?x=1"
    )


async def refused(flows: Flows, **overrides: str | None) -> dict[str, str]:
    """An error redirect to the registered URI; nothing issued, no flow started."""
    answer = answer_of(await ask(flows, request_params(**overrides)))
    assert answer["_to"] == REDIRECT
    assert "code" not in answer
    assert flows.codes.issued == {}
    assert flows.flows.flows == {}
    return answer


async def page(flows: Flows, params: list[tuple[str, str]]) -> ErrorPage:
    """An error page, never a redirect; nothing asked, issued or started."""
    shown = page_of(await ask(flows, params))
    assert shown.status == 400
    assert flows.consent.calls == []
    assert flows.codes.issued == {}
    assert flows.flows.flows == {}
    return shown


# ---- the redirect URI: exact match or an error page (RFC 9700 2.1, RFC 6749 4.1.2.1) --------


@pytest.mark.parametrize(
    "uri",
    ["https://tunes.example/callback/more", "https://tunes.example/call", "https://tunes.example/"],
)
async def test_rfc9700_2_1_redirect_uri_prefix_refused(flows: Flows, uri: str) -> None:
    assert "not registered" in (await page(flows, request_params(redirect_uri=uri))).message


@pytest.mark.parametrize(
    "uri",
    [
        f"{REDIRECT}?next=https://evil.example",
        f"{REDIRECT}?",
        "https://tunes.example/cb?from=login&x=1",
    ],
)
async def test_rfc9700_2_1_redirect_uri_with_added_query_refused(flows: Flows, uri: str) -> None:
    await page(flows, request_params(redirect_uri=uri))


@pytest.mark.parametrize(
    "uri",
    [
        "https://Tunes.example/callback",
        "HTTPS://tunes.example/callback",
        "https://tunes.example/Callback",
    ],
)
async def test_rfc9700_2_1_redirect_uri_case_change_refused(flows: Flows, uri: str) -> None:
    await page(flows, request_params(redirect_uri=uri))


async def test_rfc9700_2_1_redirect_uri_trailing_slash_refused(flows: Flows) -> None:
    await page(flows, request_params(redirect_uri=REDIRECT + "/"))


@pytest.mark.parametrize("uri", [f"{REDIRECT}#", f"{REDIRECT}#frag", f"{REDIRECT}%23x"])
async def test_rfc9700_2_1_redirect_uri_fragment_refused(flows: Flows, uri: str) -> None:
    await page(flows, request_params(redirect_uri=uri))


@pytest.mark.parametrize(
    "uri",
    ["https://tunes.example:443/callback", "http://localhost:8765/cb", "http://127.0.0.1:8766/cb"],
)
async def test_rfc9700_2_1_redirect_uri_port_or_loopback_variant_refused(
    flows: Flows, uri: str
) -> None:
    await page(flows, request_params(redirect_uri=uri))


async def test_rfc9700_2_1_no_default_redirect_uri_even_with_one_registered(flows: Flows) -> None:
    params = request_params(client_id=OTHER.client_id, redirect_uri=None)
    assert "must name its redirect_uri" in (await page(flows, params)).message


async def test_rfc9700_2_1_another_apps_redirect_uri_refused(flows: Flows) -> None:
    await page(flows, request_params(redirect_uri=OTHER.redirect_uris[0]))


async def test_rfc6749_4_1_2_1_unknown_client_gets_an_error_page_not_a_redirect(
    flows: Flows,
) -> None:
    for client in ("app_unknown", "x" * 500, "app\u0000x"):
        assert "not registered" in (await page(flows, request_params(client_id=client))).message
    assert "names no client" in (await page(flows, request_params(client_id=None))).message


async def test_rfc6749_3_1_repeated_client_or_redirect_uri_gets_an_error_page(flows: Flows) -> None:
    await page(flows, [*request_params(), ("redirect_uri", OTHER.redirect_uris[0])])
    await page(flows, [*request_params(), ("client_id", OTHER.client_id)])


async def test_client_key_is_an_alias_of_client_id(flows: Flows) -> None:
    outcome = await ask(flows, request_params(client_id=None, client_key=APP.client_id))
    assert isinstance(outcome, Redirect)
    assert outcome.location.startswith(f"{CONSENT}/consent?challenge=")


async def test_client_id_and_client_key_naming_different_clients_get_an_error_page(
    flows: Flows,
) -> None:
    mixed = request_params(client_key=OTHER.client_id)
    assert "different clients" in (await page(flows, mixed)).message


# ---- PKCE (RFC 7636; S256 only, RFC 9700 2.1.1) ---------------------------------------------


async def test_rfc7636_4_4_1_plain_refused(flows: Flows) -> None:
    answer = await refused(flows, code_challenge_method="plain")
    assert answer["error"] == "invalid_request"
    assert "S256" in answer["error_description"]


async def test_rfc7636_4_3_missing_code_challenge_method_refused_not_taken_as_plain(
    flows: Flows,
) -> None:
    answer = await refused(flows, code_challenge_method=None)
    assert (answer["error"], answer["error_description"]) == (
        "invalid_request",
        "code_challenge_method=S256 is required",
    )


async def test_rfc7636_4_4_1_missing_code_challenge_refused(flows: Flows) -> None:
    answer = await refused(flows, code_challenge=None)
    assert answer["error"] == "invalid_request"
    assert "PKCE is required" in answer["error_description"]


@pytest.mark.parametrize(
    "challenge",
    [
        pkce()[1][:42],  # too short
        pkce()[1] + "A",  # too long
        pkce()[1] + "=",  # padded
        "+" * 43,  # not base64url
        "A" * 42 + "B",  # 43 characters, but not the one encoding of 32 bytes
        pkce()[0],  # the verifier itself (the shape of `plain`)
    ],
)
async def test_rfc7636_4_2_malformed_code_challenge_refused(flows: Flows, challenge: str) -> None:
    answer = await refused(flows, code_challenge=challenge)
    assert answer["error"] == "invalid_request"


@pytest.mark.parametrize("method", ["s256", "S512", "SHA256"])
async def test_rfc7636_4_3_unknown_code_challenge_method_refused(flows: Flows, method: str) -> None:
    assert (await refused(flows, code_challenge_method=method))["error"] == "invalid_request"


# ---- response type, scopes, other parameters (RFC 6749) ---------------------------------------


@pytest.mark.parametrize(
    "response_type", ["token", "code id_token", "id_token", "code token", "CODE"]
)
async def test_rfc9700_2_1_2_response_type_token_refused(flows: Flows, response_type: str) -> None:
    answer = await refused(flows, response_type=response_type)
    assert answer["error"] == "unsupported_response_type"


async def test_rfc6749_4_1_1_missing_response_type_refused(flows: Flows) -> None:
    assert (await refused(flows, response_type=None))["error"] == "invalid_request"


async def test_rfc6749_3_3_unknown_scope_refused(flows: Flows) -> None:
    answer = await refused(flows, scope="user.info.basic admin.everything")
    assert answer["error"] == "invalid_scope"
    assert "admin.everything" in answer["error_description"]


async def test_rfc6749_3_3_scope_not_registered_for_the_app_refused(flows: Flows) -> None:
    answer = await refused(flows, scope="user.info.basic sound.upload")
    assert answer["error"] == "invalid_scope"
    assert "not registered for this app: sound.upload" in answer["error_description"]


@pytest.mark.parametrize("scope", [None, " ", ",", "openid"])
async def test_rfc6749_3_3_missing_scope_refused(flows: Flows, scope: str | None) -> None:
    assert (await refused(flows, scope=scope))["error"] == "invalid_scope"


async def test_rfc6749_3_3_a_malformed_scope_is_counted_never_echoed(flows: Flows) -> None:
    answer = await refused(flows, scope="video.list +447700900123")
    assert "+447700900123" not in answer["error_description"]
    assert "1 malformed" in answer["error_description"]


async def test_rfc6749_3_1_repeated_parameter_refused(flows: Flows) -> None:
    answer = answer_of(await ask(flows, [*request_params(), ("scope", "video.list")]))
    assert answer["error"] == "invalid_request"
    assert "repeated parameter: scope" in answer["error_description"]


@pytest.mark.parametrize(
    ("name", "error"),
    [("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")],
)
async def test_oidc_6_request_objects_refused(flows: Flows, name: str, error: str) -> None:
    assert (await refused(flows, **{name: "eyJhbGciOiJub25lIn0.e30."}))["error"] == error


@pytest.mark.parametrize("mode", ["fragment", "form_post"])
async def test_rfc9700_2_1_2_response_mode_other_than_query_refused(
    flows: Flows, mode: str
) -> None:
    assert (await refused(flows, response_mode=mode))["error"] == "invalid_request"


async def test_rfc6749_4_1_2_1_error_redirect_carries_state(flows: Flows) -> None:
    answer = await refused(flows, code_challenge_method="plain", state="xyz-123 ~!")
    assert answer["state"] == "xyz-123 ~!"  # echoed as given (VSCHAR, RFC 6749 A.5)
    again = await refused(flows, response_type="token", state="opaque/+=")
    assert again["state"] == "opaque/+="


async def test_rfc6749_4_1_2_1_error_redirect_keeps_the_registered_query(flows: Flows) -> None:
    outcome = await ask(
        flows, request_params(redirect_uri=APP.redirect_uris[1], response_type="token")
    )
    assert isinstance(outcome, Redirect)
    assert outcome.location.startswith(
        "https://tunes.example/cb?from=login&error=unsupported_response_type"
    )


async def test_rfc9207_iss_in_response(flows: Flows) -> None:
    assert (await refused(flows, scope="nope"))["iss"] == ISSUER
    flows.consent.answers[("uk_fixed", APP.client_id)] = COVERED
    token = flows.sessions.login("uk_fixed")
    outcome = await flows.authorize.authorize(
        params=request_params(state="s1"), session_token=token, here="/"
    )
    answer = answer_of(outcome)
    assert (answer["iss"], answer["state"]) == (ISSUER, "s1")
    assert answer["code"] in flows.codes.issued


async def test_an_overlong_state_is_refused_and_not_echoed(flows: Flows) -> None:
    answer = await refused(flows, state="s" * 1025)
    assert answer["error"] == "invalid_request"
    assert "state" not in answer


# ---- the user: session, prompt, consent (OIDC Core 3.1.2.1, 3.1.2.6) -------------------------


async def test_no_session_goes_to_the_login_page_with_a_local_next(flows: Flows) -> None:
    outcome = await flows.authorize.authorize(
        params=request_params(), session_token="", here="/oauth/authorize?client_id=a&b=c"
    )
    assert isinstance(outcome, Redirect)
    assert outcome.location == "/login?next=%2Foauth%2Fauthorize%3Fclient_id%3Da%26b%3Dc"
    assert flows.consent.calls == []


async def test_oidc_3_1_2_1_prompt_login_goes_to_login_without_looping(flows: Flows) -> None:
    token = flows.sessions.login()
    outcome = await flows.authorize.authorize(
        params=request_params(prompt="login"),
        session_token=token,
        here="/oauth/authorize?a=1&prompt=login",
    )
    assert isinstance(outcome, Redirect)
    assert outcome.location == "/login?next=%2Foauth%2Fauthorize%3Fa%3D1"


async def test_oidc_3_1_2_6_prompt_none_without_session_is_login_required(flows: Flows) -> None:
    answer = answer_of(await ask(flows, request_params(prompt="none"), logged_in=False))
    assert answer["error"] == "login_required"
    assert answer["iss"] == ISSUER


async def test_oidc_3_1_2_6_prompt_none_without_consent_is_consent_required(flows: Flows) -> None:
    answer = answer_of(await ask(flows, request_params(prompt="none")))
    assert answer["error"] == "consent_required"
    assert flows.flows.flows == {}


async def test_oidc_3_1_2_1_prompt_none_with_others_refused(flows: Flows) -> None:
    assert (await refused(flows, prompt="none consent"))["error"] == "invalid_request"


async def test_consent_covers_issues_the_code_at_once_bound_to_redirect_and_challenge(
    flows: Flows,
) -> None:
    flows.consent.answers[("uk_covered", APP.client_id)] = COVERED
    _, challenge = pkce()
    token = flows.sessions.login("uk_covered")
    params = request_params(
        scope="openid,video.list,user.info.basic", code_challenge=challenge, nonce="n-1"
    )
    answer = answer_of(
        await flows.authorize.authorize(params=params, session_token=token, here="/")
    )
    grant, redirect_uri, bound = flows.codes.issued[answer["code"]]
    assert (redirect_uri, bound) == (REDIRECT, challenge)
    assert grant.scopes == ("openid", "user.info.basic", "video.list")
    assert (grant.consent_id, grant.consent_version, grant.terms_version) == ("cn_1", 2, "2026-01")
    assert grant.nonce == "n-1"
    assert grant.user_key == "uk_covered"
    assert grant.pairwise_subject != "uk_covered"
    # The consent check is asked for the consent scopes only (`openid` is a protocol scope).
    assert flows.consent.calls == [("uk_covered", APP.client_id, ("user.info.basic", "video.list"))]


async def test_prompt_consent_shows_the_screen_even_when_covered(flows: Flows) -> None:
    flows.consent.answers[("uk_c", APP.client_id)] = COVERED
    token = flows.sessions.login("uk_c")
    outcome = await flows.authorize.authorize(
        params=request_params(prompt="consent"), session_token=token, here="/"
    )
    assert isinstance(outcome, Redirect)
    assert outcome.location.startswith(f"{CONSENT}/consent?")
    assert flows.codes.issued == {}


async def test_the_hand_over_stores_the_flow_sets_the_nonce_and_signs_the_challenge(
    flows: Flows,
) -> None:
    token = flows.sessions.login("uk_new")
    params = request_params(scope="openid video.list", state="app-state", nonce="oidc-n")
    outcome = await flows.authorize.authorize(params=params, session_token=token, here="/")
    assert isinstance(outcome, Redirect)
    assert outcome.flow_nonce
    claims = challenge_claims(outcome.location)
    (flow,) = flows.flows.flows.values()
    assert claims["state"] == flow.flow_id != "app-state"
    assert claims["jti"] == flow.challenge_id
    assert claims["scopes"] == ["video.list"]  # without openid
    assert claims["return_to"] == f"{ISSUER}/oauth/consent/callback"
    assert (claims["iss"], claims["aud"], claims["sub"], claims["app_id"]) == (
        ISSUER,
        "kits-consent",
        "uk_new",
        APP.client_id,
    )
    assert claims["exp"] - claims["iat"] == 120
    assert flow.request.state == "app-state"
    assert flow.request.nonce == "oidc-n"
    import hashlib

    assert claims["nonce_sha256"] == hashlib.sha256(outcome.flow_nonce.encode()).hexdigest()
    assert outcome.flow_nonce not in str(flow)  # only its hash is stored


async def test_consent_unavailable_is_a_temporarily_unavailable_redirect_never_a_code(
    flows: Flows,
) -> None:
    class Down:
        async def check(self, **_: Any) -> ConsentAnswer:
            raise ConsentUnavailable("down")

    flows.authorize.consent = Down()
    answer = answer_of(await ask(flows, request_params(state="s")))
    assert (answer["error"], answer["state"]) == ("temporarily_unavailable", "s")
    assert flows.codes.issued == {}


NAMES = st.sampled_from(
    [
        "response_type",
        "client_id",
        "client_key",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "prompt",
        "request",
        "response_mode",
        "x",
    ]
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    extra=st.lists(st.tuples(NAMES, st.text(max_size=60)), max_size=6),
    drop=st.sets(NAMES, max_size=3),
)
async def test_bad_input_never_raises_only_pages_or_redirects(
    flows: Flows, extra: list[tuple[str, str]], drop: set[str]
) -> None:
    params = [(k, v) for k, v in request_params() if k not in drop] + extra
    outcome = await ask(flows, params)
    if isinstance(outcome, ErrorPage):
        assert outcome.status == 400
    else:
        assert outcome.location.startswith(
            (REDIRECT, APP.redirect_uris[1], "/login", f"{CONSENT}/consent?", APP.redirect_uris[2])
        )


async def test_storage_away_after_the_redirect_uri_is_known_is_temporarily_unavailable(
    flows: Flows,
) -> None:
    class Away:
        async def resolve(self, token: str) -> None:
            raise ConnectionError("database away")

        async def add(self, flow: object) -> None:
            raise ConnectionError("database away")

    flows.authorize.sessions = Away()
    answer = answer_of(await ask(flows, request_params(state="s")))
    assert (answer["error"], answer["state"]) == ("temporarily_unavailable", "s")
    fresh = in_memory()
    fresh.authorize.flows = Away()  # type: ignore[assignment]
    answer = answer_of(await ask(fresh, request_params(state="t")))
    assert (answer["error"], answer["state"]) == ("temporarily_unavailable", "t")
    assert fresh.codes.issued == {}
