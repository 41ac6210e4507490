"""`AccessTokens.verify` refusals (RFC 9068 4, RFC 8725), each named after its rule."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import OctKey, OKPKey
from token_testing import TokenHarness

from auth.domain.grants import InvalidAccessToken
from auth.domain.token_rules import LOGIN_KIT, SOUND_KIT

pytestmark = pytest.mark.integration


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    return _unb64(head), _unb64(body)


def _unb64(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


async def _refused(tokens: TokenHarness, token: str, *, audience: str = LOGIN_KIT) -> str:
    with pytest.raises(InvalidAccessToken) as caught:
        await tokens.auth.container.access_tokens.verify(token, audience=audience)
    return caught.value.reason


async def test_rfc9068_4_a_live_token_verifies_with_its_claims(tokens: TokenHarness) -> None:
    grant = tokens.grant()
    body = await tokens.tokens(grant)
    header, claims = _parts(body["access_token"])

    live = await tokens.auth.container.access_tokens.verify(
        body["access_token"], audience=LOGIN_KIT
    )

    assert header["typ"] == "at+jwt"
    assert header["alg"] == "Ed25519"
    assert header["kid"]
    assert claims["sub"] == grant.pairwise_subject
    assert claims["client_id"] == tokens.client_id
    assert claims["aud"] == [LOGIN_KIT]
    assert claims["consent_id"] == grant.consent_id
    assert claims["fid"] == live.family_id
    assert claims["jti"] == live.token_id
    assert claims["exp"] - claims["iat"] == 900
    assert grant.user_key not in json.dumps(claims)


async def test_rfc9068_4_wrong_audience_refused(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    assert "audience" in await _refused(tokens, body["access_token"], audience=SOUND_KIT)


async def test_rfc9068_4_expired_token_refused(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    tokens.auth.container.oauth.kit.clock = lambda: time.time() + 900
    assert await _refused(tokens, body["access_token"]) == "token expired"


async def test_rfc9068_4_tampered_token_refused(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    header, claims = _parts(body["access_token"])
    signature = body["access_token"].rsplit(".", 1)[1]
    widened = {**claims, "scope": claims["scope"] + " sound.upload"}
    forged = f"{_b64(header)}.{_b64(widened)}.{signature}"
    assert "signature" in await _refused(tokens, forged)
    flipped = (
        body["access_token"][:-2]
        + ("A" if body["access_token"][-2] != "A" else "B")
        + body["access_token"][-1]
    )
    assert "signature" in await _refused(tokens, flipped)


async def test_rfc8725_3_1_alg_none_refused(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    header, claims = _parts(body["access_token"])
    for alg in ("none", "None", "NONE"):
        unsigned = f"{_b64({**header, 'alg': alg})}.{_b64(claims)}."
        assert "alg" in await _refused(tokens, unsigned)


async def test_rfc8725_3_1_hs256_with_the_public_key_refused(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    header, claims = _parts(body["access_token"])
    public_x = tokens.auth.container.oauth.kit.access.jwks()[0]["x"]
    key = OctKey.import_key(public_x.encode())
    forged = jws.serialize_compact(
        {**header, "alg": "HS256"}, json.dumps(claims), key, algorithms=["HS256"]
    )
    assert "alg" in await _refused(tokens, forged)


async def test_rfc9068_4_wrong_typ_refused(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    _, claims = _parts(body["access_token"])
    for typ in ("JWT", "kits-user+jwt", "kits-service+jwt"):
        other = tokens.auth.container.oauth.kit.access.sign(claims, typ=typ)
        assert "typ" in await _refused(tokens, other)


async def test_rfc9068_4_unknown_key_refused(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    header, claims = _parts(body["access_token"])
    stranger = OKPKey.generate_key("Ed25519")
    forged = jws.serialize_compact(
        {**header, "kid": stranger.thumbprint()},
        json.dumps(claims),
        stranger,
        algorithms=["Ed25519"],
    )
    assert "kid" in await _refused(tokens, forged)
    same_kid = jws.serialize_compact(header, json.dumps(claims), stranger, algorithms=["Ed25519"])
    assert "signature" in await _refused(tokens, same_kid)


async def test_rfc9068_4_other_issuer_refused(tokens: TokenHarness) -> None:
    body = await tokens.tokens()
    _, claims = _parts(body["access_token"])
    other = tokens.auth.container.oauth.kit.access.sign(
        {**claims, "iss": "https://evil.example"}, typ="at+jwt"
    )
    assert "issuer" in await _refused(tokens, other)


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "x" * 9000, "....", "e30.e30.e30"])
async def test_rfc6750_3_1_garbage_is_an_invalid_token(tokens: TokenHarness, garbage: str) -> None:
    assert await _refused(tokens, garbage)
