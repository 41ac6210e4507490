"""Refusals of the token endpoint, each named after the rule it checks (real servers)."""

from __future__ import annotations

import base64
import os
import time

import pytest
from apps_testing import EventsSince
from token_testing import REDIRECT, TokenHarness, oauth_error

from auth.domain.grants import InvalidAccessToken
from auth.domain.pkce import s256
from auth.domain.token_rules import LOGIN_KIT
from shared.events.auth import TokenRevoked

pytestmark = pytest.mark.integration


async def test_rfc7636_4_6_wrong_verifier_refused(tokens: TokenHarness) -> None:
    code, verifier = await tokens.code(tokens.grant())
    wrong = verifier[:-1] + ("B" if verifier.endswith("A") else "A")  # always a different verifier
    oauth_error(await tokens.redeem(code, wrong), 400, "invalid_grant")
    assert (await tokens.redeem(code, verifier)).status_code == 200  # not burnt by the guess


async def test_rfc7636_4_6_missing_verifier_refused(tokens: TokenHarness) -> None:
    code, _ = await tokens.code(tokens.grant())
    oauth_error(await tokens.redeem(code, None), 400, "invalid_grant")


async def test_rfc7636_4_2_plain_downgrade_refused(tokens: TokenHarness) -> None:
    """A client that sends the challenge itself as the verifier (the `plain` method) fails."""
    grant = tokens.grant()
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = s256(verifier)
    code = await tokens.auth.container.oauth_codes.issue(
        grant=grant, redirect_uri=REDIRECT, code_challenge=challenge
    )
    oauth_error(await tokens.redeem(code, challenge), 400, "invalid_grant")


async def test_rfc7636_4_2_a_code_needs_an_s256_challenge(tokens: TokenHarness) -> None:
    with pytest.raises(ValueError, match="S256"):
        await tokens.auth.container.oauth_codes.issue(
            grant=tokens.grant(), redirect_uri=REDIRECT, code_challenge="plain-and-short"
        )


async def test_rfc7636_4_1_verifier_of_bad_syntax_refused(tokens: TokenHarness) -> None:
    code, _ = await tokens.code(tokens.grant())
    oauth_error(await tokens.redeem(code, "short"), 400, "invalid_grant")
    oauth_error(await tokens.redeem(code, "x" * 129), 400, "invalid_grant")


async def test_rfc6749_4_1_2_code_reuse_refused_and_its_family_revoked(
    tokens: TokenHarness,
) -> None:
    grant = tokens.grant()
    code, verifier = await tokens.code(grant)
    first = await tokens.redeem(code, verifier)
    assert first.status_code == 200
    since = await EventsSince(tokens.auth.settings.kafka_bootstrap_servers).mark()

    oauth_error(await tokens.redeem(code, verifier), 400, "invalid_grant")

    with pytest.raises(InvalidAccessToken, match="revoked"):
        await tokens.auth.container.access_tokens.verify(
            first.json()["access_token"], audience=LOGIN_KIT
        )
    # The revocation says why: a second redemption of the code (additive `code_reuse`).
    events = await since.read(
        grant.user_key,
        until=lambda found: any(e.type == TokenRevoked.TYPE for e in found),
        settle_s=0.3,
    )
    (revoked,) = [e.data for e in events if e.type == TokenRevoked.TYPE]
    assert (revoked.reason, revoked.code_reuse) == ("refresh_reuse", True)


async def test_rfc6749_4_1_2_expired_code_refused(tokens: TokenHarness) -> None:
    code, verifier = await tokens.code(tokens.grant())
    kit = tokens.auth.container.oauth.kit
    kit.clock = lambda: time.time() + 60
    oauth_error(await tokens.redeem(code, verifier), 400, "invalid_grant")
    assert tokens.transfers.records == []


async def test_rfc6749_4_1_3_code_for_another_client_refused(tokens: TokenHarness) -> None:
    code, verifier = await tokens.code(tokens.grant(client_id=tokens.public_id))
    oauth_error(await tokens.redeem(code, verifier), 400, "invalid_grant")


@pytest.mark.parametrize(
    "sent",
    [
        REDIRECT + "/",
        REDIRECT.upper(),
        REDIRECT + "?x=1",
        "https://tunes.example/callback#f",
        "https://evil.example/callback",
    ],
)
async def test_rfc6749_4_1_3_redirect_uri_mismatch_refused(tokens: TokenHarness, sent: str) -> None:
    code, verifier = await tokens.code(tokens.grant())
    oauth_error(await tokens.redeem(code, verifier, redirect_uri=sent), 400, "invalid_grant")


async def test_rfc6749_4_1_3_redirect_uri_missing_refused(tokens: TokenHarness) -> None:
    code, verifier = await tokens.code(tokens.grant())
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    oauth_error(
        await tokens.post("/oauth/token", form, headers=tokens.basic()), 400, "invalid_request"
    )


async def test_rfc6749_6_scope_escalation_on_refresh_refused(tokens: TokenHarness) -> None:
    first = await tokens.tokens()
    narrowed = await tokens.refresh(first["refresh_token"], scope="user.info.basic")
    assert narrowed.status_code == 200
    wider = await tokens.refresh(
        narrowed.json()["refresh_token"], scope="user.info.basic video.list"
    )
    oauth_error(wider, 400, "invalid_scope")
    beyond = await tokens.refresh(narrowed.json()["refresh_token"], scope="sound.upload")
    oauth_error(beyond, 400, "invalid_scope")
    assert (await tokens.refresh(narrowed.json()["refresh_token"])).status_code == 200


async def test_rfc9700_2_2_2_refresh_reuse_revokes_family(tokens: TokenHarness) -> None:
    first = await tokens.tokens()
    second = await tokens.refresh(first["refresh_token"])
    assert second.status_code == 200

    oauth_error(await tokens.refresh(first["refresh_token"]), 400, "invalid_grant")

    oauth_error(await tokens.refresh(second.json()["refresh_token"]), 400, "invalid_grant")
    with pytest.raises(InvalidAccessToken, match="revoked"):
        await tokens.auth.container.access_tokens.verify(
            second.json()["access_token"], audience=LOGIN_KIT
        )


async def test_rfc6749_6_refresh_token_of_another_client_refused(tokens: TokenHarness) -> None:
    first = await tokens.tokens()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": tokens.public_id,
    }
    oauth_error(await tokens.post("/oauth/token", form), 400, "invalid_grant")
    assert (await tokens.refresh(first["refresh_token"])).status_code == 200  # still usable


@pytest.mark.parametrize(
    "grant_type",
    [
        "password",
        "implicit",
        "token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "\u202eedoc_noitazirohtua",
    ],
)
async def test_rfc9700_2_4_only_code_and_refresh_grants(
    tokens: TokenHarness, grant_type: str
) -> None:
    form = {"grant_type": grant_type, "username": "u", "password": "p", "scope": "openid"}
    oauth_error(
        await tokens.post("/oauth/token", form, headers=tokens.basic()),
        400,
        "unsupported_grant_type",
    )


async def test_rfc6749_5_2_missing_grant_type_is_invalid_request(tokens: TokenHarness) -> None:
    oauth_error(await tokens.post("/oauth/token", {"code": "x"}), 400, "invalid_request")


async def test_rfc6749_3_2_repeated_parameter_refused(tokens: TokenHarness) -> None:
    code, verifier = await tokens.code(tokens.grant())
    body = (
        f"grant_type=authorization_code&code={code}&code={code}"
        f"&redirect_uri={REDIRECT}&code_verifier={verifier}"
    )
    response = await tokens.http.post(
        "/oauth/token",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **tokens.basic()},
    )
    oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"grant_type": "authorization_code"}', "application/json"),
        (b"grant_type=refresh_token", "text/plain"),
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (
            b"grant_type=refresh_token&refresh_token=" + b"A" * 20_000,
            "application/x-www-form-urlencoded",
        ),
        (b"grant_type=refresh_token&refresh_token=%00", "application/x-www-form-urlencoded"),
        (b"", "application/x-www-form-urlencoded"),
    ],
)
async def test_rfc6749_5_2_bad_input_is_an_oauth_error_never_a_500(
    tokens: TokenHarness, content: bytes, content_type: str
) -> None:
    response = await tokens.http.post(
        "/oauth/token", content=content, headers={"Content-Type": content_type}
    )
    oauth_error(response, 400, "invalid_request")


async def test_rfc6749_5_2_garbage_tokens_and_codes_are_invalid_grant(
    tokens: TokenHarness,
) -> None:
    for form in (
        {"grant_type": "refresh_token", "refresh_token": "krt_not-a-token"},
        {
            "grant_type": "authorization_code",
            "code": "\u00e9\u00e9",
            "redirect_uri": REDIRECT,
            "code_verifier": "v" * 43,
        },
    ):
        oauth_error(
            await tokens.post("/oauth/token", form, headers=tokens.basic()), 400, "invalid_grant"
        )


async def test_rfc6749_2_3_1_wrong_secret_is_invalid_client(tokens: TokenHarness) -> None:
    code, verifier = await tokens.code(tokens.grant())
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    headers = tokens.basic(secret=tokens.secret + "x")
    oauth_error(
        await tokens.post("/oauth/token", {**form, "code_verifier": verifier}, headers=headers),
        401,
        "invalid_client",
    )
    bad_basic = {"Authorization": "Basic !!!not-base64"}
    oauth_error(await tokens.post("/oauth/token", form, headers=bad_basic), 401, "invalid_client")
    bearer = {"Authorization": "Bearer abc"}
    oauth_error(await tokens.post("/oauth/token", form, headers=bearer), 401, "invalid_client")


async def test_rfc6749_2_3_1_confidential_client_without_its_secret_refused(
    tokens: TokenHarness,
) -> None:
    code, verifier = await tokens.code(tokens.grant())
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": tokens.client_id,
    }
    oauth_error(await tokens.post("/oauth/token", form), 401, "invalid_client")
    oauth_error(
        await tokens.post("/oauth/token", {**form, "client_id": "no-such-app"}),
        401,
        "invalid_client",
    )


async def test_rfc6749_2_3_one_authentication_method_per_request(tokens: TokenHarness) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": "x", "client_secret": tokens.secret}
    oauth_error(
        await tokens.post("/oauth/token", form, headers=tokens.basic()), 400, "invalid_request"
    )


async def test_asvs_10_4_x_refresh_after_the_consent_ended_refused_and_family_revoked(
    tokens: TokenHarness,
) -> None:
    grant = tokens.grant()
    first = await tokens.tokens(grant)
    tokens.allow(grant, allowed=False, reason="revoked")

    oauth_error(await tokens.refresh(first["refresh_token"]), 400, "invalid_grant")

    tokens.allow(grant)  # even if consent came back, the family stays ended
    oauth_error(await tokens.refresh(first["refresh_token"]), 400, "invalid_grant")
    with pytest.raises(InvalidAccessToken, match="revoked"):
        await tokens.auth.container.access_tokens.verify(first["access_token"], audience=LOGIN_KIT)


async def test_design_transfer_not_recorded_answers_503_and_nothing_usable(
    tokens: TokenHarness,
) -> None:
    code, verifier = await tokens.code(tokens.grant())
    tokens.transfers.failing = True

    response = await tokens.redeem(code, verifier)

    oauth_error(response, 503, "temporarily_unavailable")
    assert "access_token" not in response.text
    tokens.transfers.failing = False
    oauth_error(await tokens.redeem(code, verifier), 400, "invalid_grant")  # code spent
    [family_id] = [
        doc["_id"]
        for name in await tokens.auth.container.runtime.db.list_collection_names()
        if name.startswith("oauth_families_")
        async for doc in tokens.auth.container.runtime.db[name].find({})
    ]
    family = await tokens.auth.container.oauth.kit.store.get_family(family_id)
    assert family is not None
    assert family.revoked


async def test_design_consent_unavailable_fails_closed_with_503(tokens: TokenHarness) -> None:
    code, verifier = await tokens.code(tokens.grant())
    tokens.consent.unavailable = True

    oauth_error(await tokens.redeem(code, verifier), 503, "temporarily_unavailable")

    assert tokens.transfers.records == []
