"""The OAuth client's checks over real HTTP against a stand-in authorization server: the
authorize URL (PKCE S256, state, nonce), RFC 9207 `iss`, client_secret_basic, the ID token's
signature, audience and nonce, and invalid_grant on refresh as `Revoked`."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from demo_app.platform import LoginFailed, Platform, Revoked
from kits_browser import live_server

KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"})
SEEN: dict[str, Any] = {}
ID_TOKEN: dict[str, Any] = {}


def stand_in() -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    async def meta(request: Request) -> dict[str, str]:
        base = str(request.base_url).rstrip("/")
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "jwks_uri": f"{base}/jwks",
        }

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return dict(KeySet([KEY]).as_dict(private=False))

    @app.post("/oauth/token")
    async def token(request: Request) -> Any:
        form = dict((await request.form()).items())
        SEEN.update(form=form, auth=request.headers.get("authorization", ""))
        if form.get("grant_type") == "refresh_token":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return {
            "access_token": "at",
            "token_type": "Bearer",
            "expires_in": 600,
            "refresh_token": "rt",
            "open_id": "u1",
            "id_token": ID_TOKEN["value"],
        }

    return app


@pytest.fixture(scope="module")
async def platform() -> AsyncIterator[tuple[Platform, str]]:
    async with live_server(stand_in()) as url:
        client = Platform(
            auth_url=url,
            client_id="tunetown",
            client_secret="kcs_s",
            redirect_uri="http://127.0.0.1:8010/callback",
            scopes="openid video.list",
            timeout_s=5,
        )
        yield client, url
        await client.close()


def id_token(*, iss: str, nonce: str, aud: str = "tunetown", key: RSAKey = KEY) -> str:
    now = int(time.time())
    claims = {"iss": iss, "sub": "u1", "aud": aud, "nonce": nonce, "iat": now, "exp": now + 60}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key, algorithms=["RS256"])


async def test_a_good_sign_in_uses_pkce_s256_basic_auth_and_a_valid_id_token(
    platform: tuple[Platform, str],
) -> None:
    client, url = platform
    start = await client.start()
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.url).query).items()}
    challenge = base64.urlsafe_b64encode(hashlib.sha256(start.verifier.encode()).digest())
    assert query["code_challenge"] == challenge.rstrip(b"=").decode()
    assert query["code_challenge_method"] == "S256"
    assert (query["state"], query["nonce"]) == (start.state, start.nonce)
    ID_TOKEN["value"] = id_token(iss=url, nonce=start.nonce)
    token = await client.finish(
        params={"code": "c", "state": start.state, "iss": url},
        state=start.state,
        verifier=start.verifier,
        nonce=start.nonce,
    )
    assert token["open_id"] == "u1"
    assert SEEN["auth"] == "Basic " + base64.b64encode(b"tunetown:kcs_s").decode()
    assert SEEN["form"]["code_verifier"] == start.verifier
    assert "client_secret" not in SEEN["form"]


@pytest.mark.parametrize(
    "case", ["wrong iss", "no iss", "bad nonce", "bad aud", "bad key", "wrong state"]
)
async def test_a_bad_callback_or_id_token_is_refused(
    platform: tuple[Platform, str], case: str
) -> None:
    client, url = platform
    start = await client.start()
    params = {"code": "c", "state": start.state, "iss": url}
    ID_TOKEN["value"] = id_token(
        iss=url,
        nonce="other" if case == "bad nonce" else start.nonce,
        aud="someone-else" if case == "bad aud" else "tunetown",
        key=OTHER if case == "bad key" else KEY,
    )
    if case == "wrong iss":
        params["iss"] = "https://attacker.example"
    if case == "no iss":
        del params["iss"]
    if case == "wrong state":
        params["state"] = "forged"
    with pytest.raises((LoginFailed, Exception)) as refused:
        await client.finish(
            params=params, state=start.state, verifier=start.verifier, nonce=start.nonce
        )
    if case != "wrong state":
        assert isinstance(refused.value, LoginFailed)


async def test_invalid_grant_on_refresh_is_revoked(platform: tuple[Platform, str]) -> None:
    client, _ = platform
    with pytest.raises(Revoked):
        await client.refresh({"access_token": "at", "refresh_token": "rt", "expires_at": 0})
