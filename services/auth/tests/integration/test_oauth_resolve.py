"""`POST /internal/v1/access-tokens/resolve`: sound's hand-over (service-token callers only)."""

from __future__ import annotations

import pytest
from joserfc.jwk import OKPKey
from token_testing import TokenHarness, service_token

from auth.domain.token_rules import SOUND_KIT

pytestmark = pytest.mark.integration
PATH = "/internal/v1/access-tokens/resolve"


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_resolve_gives_sound_the_live_grant(tokens: TokenHarness) -> None:
    grant = tokens.grant(scopes=("sound.share", "sound.upload"))
    body = await tokens.tokens(grant)

    response = await tokens.http.post(
        PATH,
        json={"token": body["access_token"], "audience": SOUND_KIT},
        headers=_as(service_token()),
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["active"] is True
    assert answer["user_key"] == grant.user_key
    assert answer["sub"] == grant.pairwise_subject
    assert answer["client_id"] == tokens.client_id
    assert answer["scopes"] == ["sound.share", "sound.upload"]
    assert answer["consent_id"] == grant.consent_id
    assert answer["consent_version"] == 1
    assert answer["terms_version"] == "2026-01"
    assert answer["purpose"] == "share tunes"
    assert {"token_id", "family_id", "exp"} <= answer.keys()


async def test_resolve_answers_inactive_with_a_reason(tokens: TokenHarness) -> None:
    login_kit_only = await tokens.tokens()
    for token, reason in ((login_kit_only["access_token"], "audience"), ("garbage", "JWS")):
        response = await tokens.http.post(
            PATH, json={"token": token, "audience": SOUND_KIT}, headers=_as(service_token())
        )
        assert response.status_code == 200, response.text
        assert response.json()["active"] is False
        assert reason in response.json()["reason"]


async def test_resolve_refuses_callers_without_a_valid_service_token(
    tokens: TokenHarness,
) -> None:
    body = {"token": "x", "audience": SOUND_KIT}
    stranger = OKPKey.generate_key("Ed25519", parameters={"kid": "test-sound-service-key"})
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        _as("not-a-jwt"),
        _as(service_token(key=stranger)),
        _as(service_token("consent")),
        _as(service_token(aud="consent")),
        _as(tokens.auth.container.user_tokens.mint(user_key="u_1")),
    ):
        response = await tokens.http.post(PATH, json=body, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert "detail" in response.json()


async def test_resolve_refuses_bad_bodies_with_422(tokens: TokenHarness) -> None:
    for body in ({}, {"token": "x"}, {"token": "x" * 9000, "audience": SOUND_KIT}, [1]):
        response = await tokens.http.post(PATH, json=body, headers=_as(service_token()))
        assert response.status_code == 422, response.text
