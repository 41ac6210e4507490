"""`POST /internal/apps/{app_id}/webhook-secret`: only auth's short-lived service token gets it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey

from consent.domain.apps import App
from consent.domain.model import Terms
from consent.main import create_app
from deletions_testing import deletion_settings
from kits_testing import Servers

pytestmark = pytest.mark.integration
KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "auth-1"})
OTHER = OKPKey.generate_key("Ed25519", parameters={"kid": "auth-1"})
PATH = "/internal/apps/app-42/webhook-secret"


def token(*, key: OKPKey = KEY, typ: str = "kits-service+jwt", **claims: Any) -> str:
    """A service token as auth would sign it, with claims overridden."""
    now = int(time.time())
    body = {"iss": "auth", "sub": "auth", "aud": "consent", "iat": now, "exp": now + 60}
    body.update(claims)
    header = {"alg": "Ed25519", "typ": typ, "kid": "auth-1"}
    return jwt.encode(header, body, key, algorithms=["Ed25519"])


@pytest.fixture
async def client(servers: Servers, mongo_client: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The consent app with auth's JWKS configured inline."""
    jwks = json.dumps(KeySet([KEY]).as_dict(private=False))
    settings = deletion_settings(
        servers, database=f"t_secret_{time.time_ns()}", webhook_secret_caller_jwks=jwks
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        yield http
    await mongo_client.drop_database(settings.database_name)


async def test_auth_gets_the_derived_secret(client: httpx.AsyncClient) -> None:
    answer = await client.post(PATH, headers={"authorization": f"Bearer {token()}"})
    assert answer.status_code == 200
    digest = hmac.new(b"dev-only-webhook-key", b"webhook\0app-42", hashlib.sha256).digest()
    assert answer.json() == {
        "app_id": "app-42",
        "secret": "whsec_" + base64.b64encode(digest).decode(),
        "known": False,
    }


async def test_known_turns_true_once_consent_holds_the_app(client: httpx.AsyncClient) -> None:
    """A registration step waits on `known`: until then consent's screen refuses the app."""
    before = await client.post(PATH, headers={"authorization": f"Bearer {token()}"})
    container = client._transport.app.state.container  # type: ignore[attr-defined]
    await container.apps.save(
        App("app-42", "App 42", ("user.info.basic",), Terms("v1", (), 30), "https://t", None)
    )
    after = await client.post(PATH, headers={"authorization": f"Bearer {token()}"})
    assert (before.json()["known"], after.json()["known"]) == (False, True)
    assert before.json()["secret"] == after.json()["secret"]


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer ",
        "Basic YXV0aDp4",
        "Bearer not-a-jwt",
        f"Bearer {token(typ='JWT')}",
        f"Bearer {token(typ='kits-user+jwt')}",
        f"Bearer {token(key=OTHER)}",
        f"Bearer {token(aud='audit')}",
        f"Bearer {token(iss='sound', sub='sound')}",
        f"Bearer {token(exp=int(time.time()) - 120)}",
        f"Bearer {token(exp=int(time.time()) + 3600)}",
        f"Bearer {token(iat=None)}",
    ],
    ids=[
        "none",
        "empty",
        "basic",
        "garbage",
        "typ-jwt",
        "user-token",
        "foreign-key",
        "other-audience",
        "other-caller",
        "expired",
        "too-long-lived",
        "no-iat",
    ],
)
async def test_anything_else_is_a_401(client: httpx.AsyncClient, authorization: str) -> None:
    headers = {"authorization": authorization} if authorization else {}
    answer = await client.post(PATH, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["detail"].startswith("service authentication failed")
    assert "whsec_" not in answer.text


async def test_a_malformed_app_id_is_a_422(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/internal/apps/%20bad/webhook-secret", headers={"authorization": f"Bearer {token()}"}
    )
    assert answer.status_code == 422


async def test_without_configured_keys_every_caller_is_refused(
    servers: Servers, mongo_client: Any
) -> None:
    settings = deletion_settings(servers, database=f"t_secret_{time.time_ns()}")
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        answer = await http.post(PATH, headers={"authorization": f"Bearer {token()}"})
    await mongo_client.drop_database(settings.database_name)
    assert answer.status_code == 401
