"""RFC 7009 revocation and RFC 7662 introspection on the real servers."""

from __future__ import annotations

import pytest
from token_testing import TokenHarness, oauth_error

from auth.domain.grants import InvalidAccessToken
from auth.domain.token_rules import LOGIN_KIT

pytestmark = pytest.mark.integration


async def _live(tokens: TokenHarness, access_token: str) -> bool:
    try:
        await tokens.auth.container.access_tokens.verify(access_token, audience=LOGIN_KIT)
    except InvalidAccessToken:
        return False
    return True


async def _introspect(tokens: TokenHarness, token: str, **extra: str) -> dict[str, object]:
    response = await tokens.post(
        "/oauth/introspect", {"token": token, **extra}, headers=tokens.basic()
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    answer: dict[str, object] = response.json()
    return answer


async def test_rfc7009_2_1_revocation_requires_client_auth(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    oauth_error(
        await tokens.post("/oauth/revoke", {"token": body["refresh_token"]}), 401, "invalid_client"
    )
    wrong = tokens.basic(secret="wrong-secret")
    oauth_error(
        await tokens.post("/oauth/revoke", {"token": body["refresh_token"]}, headers=wrong),
        401,
        "invalid_client",
    )
    assert await _live(tokens, body["access_token"])


async def test_rfc7009_2_1_other_clients_token_unchanged(tokens: TokenHarness) -> None:
    theirs = await tokens.tokens()
    for token in (theirs["refresh_token"], theirs["access_token"]):
        response = await tokens.post(
            "/oauth/revoke", {"token": token, "client_id": tokens.public_id}
        )
        assert response.status_code == 200
    assert await _live(tokens, theirs["access_token"])
    assert (await tokens.refresh(theirs["refresh_token"])).status_code == 200


async def test_rfc7009_2_2_unknown_token_answers_200(tokens: TokenHarness) -> None:
    for token in ("krt_unknown", "a.b.c", "x" * 4000):
        response = await tokens.post("/oauth/revoke", {"token": token}, headers=tokens.basic())
        assert response.status_code == 200, response.text


async def test_rfc7009_2_1_missing_token_is_invalid_request(tokens: TokenHarness) -> None:
    oauth_error(
        await tokens.post("/oauth/revoke", {}, headers=tokens.basic()), 400, "invalid_request"
    )


async def test_rfc7009_2_1_revoking_a_refresh_token_ends_its_family_only(
    tokens: TokenHarness,
) -> None:
    grant = tokens.grant()
    one, other = await tokens.tokens(grant), await tokens.tokens(grant)

    response = await tokens.post(
        "/oauth/revoke",
        {"token": one["refresh_token"], "token_type_hint": "refresh_token"},
        headers=tokens.basic(),
    )

    assert response.status_code == 200
    assert not await _live(tokens, one["access_token"])
    oauth_error(await tokens.refresh(one["refresh_token"]), 400, "invalid_grant")
    assert await _live(tokens, other["access_token"])  # the same user and app's other family
    assert (await tokens.refresh(other["refresh_token"])).status_code == 200


async def test_rfc7009_2_1_revoking_an_access_token_ends_its_family(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    response = await tokens.post(
        "/oauth/revoke",
        {"token": body["access_token"], "token_type_hint": "access_token"},
        headers=tokens.basic(),
    )
    assert response.status_code == 200
    assert not await _live(tokens, body["access_token"])
    oauth_error(await tokens.refresh(body["refresh_token"]), 400, "invalid_grant")


async def test_rfc7009_2_1_a_public_client_revokes_its_own_token(tokens: TokenHarness) -> None:
    body = await tokens.public_tokens()
    revoked = await tokens.post(
        "/oauth/revoke", {"token": body["refresh_token"], "client_id": tokens.public_id}
    )
    assert revoked.status_code == 200
    assert not await _live(tokens, body["access_token"])


async def test_rfc7662_2_1_introspection_requires_client_auth(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    oauth_error(
        await tokens.post("/oauth/introspect", {"token": body["access_token"]}),
        401,
        "invalid_client",
    )
    as_public = {"token": body["access_token"], "client_id": tokens.public_id}
    oauth_error(await tokens.post("/oauth/introspect", as_public), 401, "invalid_client")


async def test_rfc7662_2_2_active_answer_for_the_callers_own_tokens(tokens: TokenHarness) -> None:
    grant = tokens.grant()
    body = await tokens.tokens(grant)

    access = await _introspect(tokens, body["access_token"])
    refresh = await _introspect(tokens, body["refresh_token"], token_type_hint="refresh_token")

    for answer in (access, refresh):
        assert answer["active"] is True
        assert answer["client_id"] == tokens.client_id
        assert answer["sub"] == grant.pairwise_subject
        assert answer["scope"] == "openid user.info.basic video.list"
        assert answer["iss"] == tokens.auth.settings.issuer
        assert answer["aud"] == [LOGIN_KIT]
        assert isinstance(answer["exp"], int)
        assert isinstance(answer["iat"], int)
        assert grant.user_key not in str(answer)
    assert access["token_type"] == "Bearer"


async def test_rfc7662_2_2_other_clients_tokens_are_inactive(tokens: TokenHarness) -> None:
    theirs = await tokens.public_tokens()
    assert await _introspect(tokens, theirs["access_token"]) == {"active": False}
    assert await _introspect(tokens, theirs["refresh_token"]) == {"active": False}


async def test_rfc7662_2_2_revoked_rotated_and_garbage_tokens_are_inactive(
    tokens: TokenHarness,
) -> None:
    body = await tokens.tokens()
    rotated = await tokens.refresh(body["refresh_token"])
    assert await _introspect(tokens, body["refresh_token"]) == {"active": False}
    await tokens.post(
        "/oauth/revoke", {"token": rotated.json()["refresh_token"]}, headers=tokens.basic()
    )
    assert await _introspect(tokens, rotated.json()["access_token"]) == {"active": False}
    assert await _introspect(tokens, "garbage") == {"active": False}


async def test_asvs_10_4_x_introspection_asks_consent_so_a_revoked_one_is_inactive(
    tokens: TokenHarness,
) -> None:
    grant = tokens.grant()
    body = await tokens.tokens(grant)
    assert (await _introspect(tokens, body["access_token"]))["active"] is True

    tokens.allow(grant, allowed=False, reason="revoked")  # no sleep: the very next call

    assert await _introspect(tokens, body["access_token"]) == {"active": False}
    assert await _introspect(tokens, body["refresh_token"]) == {"active": False}
