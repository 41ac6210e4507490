"""The token endpoint's happy paths on the real servers: code → tokens → refresh, the
response's shape, the recorded transfer, the ID token and JWKS as Authlib reads them."""

from __future__ import annotations

import hashlib
import json

import pytest
from apps_testing import EventsSince
from authlib.jose import JsonWebKey, JsonWebToken
from token_testing import TokenHarness

from auth.domain.token_rules import LOGIN_KIT

pytestmark = pytest.mark.integration


async def test_a_code_becomes_the_full_token_response_whose_bytes_were_recorded(
    tokens: TokenHarness,
) -> None:
    grant = tokens.grant()
    code, verifier = await tokens.code(grant)

    response = await tokens.redeem(code, verifier)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh_expires_in"] == 30 * 86_400
    assert body["scope"] == "openid user.info.basic video.list"
    assert body["open_id"] == grant.pairwise_subject
    assert body["refresh_token"].startswith("krt_")
    assert "id_token" in body
    assert grant.user_key not in response.text
    [record] = tokens.transfers.records
    assert record.digest == hashlib.sha256(response.content).hexdigest()
    assert record.grant.consent_id == grant.consent_id
    assert record.consent.allowed
    assert "open_id" in record.fields_released
    live = await tokens.auth.container.access_tokens.verify(
        body["access_token"], audience=LOGIN_KIT
    )
    assert live.grant.user_key == grant.user_key
    assert live.grant.scopes == grant.scopes


async def test_a_refresh_rotates_and_the_new_tokens_work(tokens: TokenHarness) -> None:
    first = await tokens.tokens()

    refreshed = await tokens.refresh(first["refresh_token"], scope="user.info.basic")

    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["scope"] == "user.info.basic"
    assert "id_token" not in body  # `openid` was narrowed away
    again = await tokens.refresh(body["refresh_token"])
    assert again.status_code == 200, again.text
    assert again.json()["scope"] == "user.info.basic"  # narrowed stays narrowed
    assert len(tokens.transfers.records) == 3


async def test_a_public_client_redeems_with_pkce_and_client_id_alone(
    tokens: TokenHarness,
) -> None:
    grant = tokens.grant(client_id=tokens.public_id)
    code, verifier = await tokens.code(grant)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://tunes.example/callback",
        "code_verifier": verifier,
        "client_id": tokens.public_id,
    }

    response = await tokens.post("/oauth/token", form)

    assert response.status_code == 200, response.text
    assert response.json()["open_id"] == grant.pairwise_subject


async def test_client_secret_post_authenticates_too(tokens: TokenHarness) -> None:
    code, verifier = await tokens.code(tokens.grant())
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://tunes.example/callback",
        "code_verifier": verifier,
        "client_id": tokens.client_id,
        "client_secret": tokens.secret,
    }

    response = await tokens.post("/oauth/token", form)

    assert response.status_code == 200, response.text


async def test_authlib_loads_the_jwks_and_validates_the_id_token(tokens: TokenHarness) -> None:
    grant = tokens.grant()
    body = await tokens.tokens(grant)
    jwks = (await tokens.http.get("/oauth/jwks.json")).json()
    discovery = (await tokens.http.get("/.well-known/openid-configuration")).json()

    key_set = JsonWebKey.import_key_set(jwks)
    claims = JsonWebToken(["RS256"]).decode(
        body["id_token"],
        key_set,
        claims_options={
            "iss": {"essential": True, "value": discovery["issuer"]},
            "aud": {"essential": True, "value": tokens.client_id},
            "nonce": {"essential": True, "value": grant.nonce},
        },
    )
    claims.validate()

    assert claims["sub"] == grant.pairwise_subject
    assert claims["azp"] == tokens.client_id
    assert claims["auth_time"] == grant.auth_time
    assert {k["alg"] for k in jwks["keys"]} == {"Ed25519", "RS256"}
    assert all("d" not in k and "p" not in k for k in jwks["keys"])
    assert discovery["jwks_uri"].endswith("/oauth/jwks.json")


async def test_the_token_issued_event_is_published(tokens: TokenHarness) -> None:
    since = await EventsSince(tokens.auth.settings.kafka_bootstrap_servers).mark()
    grant = tokens.grant()
    body = await tokens.tokens(grant)

    events = await since.read(grant.user_key, until=lambda found: len(found) >= 1)

    assert [e.type for e in events] == ["auth.token_issued.v1"]
    data = events[0].data
    payload = json.loads(events[0].to_bytes())
    assert payload["data"]["grant_type"] == "authorization_code"
    assert data.app_id == tokens.client_id
    assert data.pairwise_subject == body["open_id"]
