"""Helpers of the token-side tests: an auth app with fake consent and transfer ports, apps,
grants, codes, and token requests made the way a client library makes them."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

import httpx
from apps_testing import app_body, new_developer
from joserfc import jwt
from joserfc.jwk import OKPKey
from oauth_fakes import FakeConsentCheck, FakeTransfers

from auth.domain.grants import ConsentAnswer, Grant
from auth.domain.pkce import s256
from auth_testing import AuthHarness

REDIRECT = "https://tunes.example/callback"
SCOPES = ("openid", "user.info.basic", "video.list")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SOUND_KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "test-sound-service-key"})
CALLERS = {"sound": {"jwks": json.dumps({"keys": [SOUND_KEY.as_dict(private=False)]})}}


def service_token(caller: str = "sound", *, key: OKPKey = SOUND_KEY, **claims: Any) -> str:
    """A service token as sound signs it (`shared/service_tokens.py`)."""
    now = int(time.time())
    payload = {"iss": caller, "sub": caller, "aud": "auth", "iat": now, "exp": now + 60}
    header = {"alg": "Ed25519", "typ": "kits-service+jwt", "kid": key.kid}
    return jwt.encode(header, {**payload, **claims}, key, algorithms=["Ed25519"])


@dataclass
class TokenHarness:
    """Auth on the real servers, its fakes, and one confidential and one public app."""

    auth: AuthHarness
    consent: FakeConsentCheck
    transfers: FakeTransfers
    client_id: str
    secret: str
    public_id: str
    transport: httpx.ASGITransport  # the app's, for clients other than `http`

    @property
    def http(self) -> httpx.AsyncClient:
        return self.auth.http

    def grant(self, *, client_id: str | None = None, **changes: Any) -> Grant:
        """A grant of a fresh user to the app, which the fake consent check allows."""
        client = client_id or self.client_id
        user_key = f"u_{uuid.uuid4().hex}"
        grant = Grant(
            client_id=client,
            user_key=user_key,
            pairwise_subject=f"p_{uuid.uuid4().hex}",
            scopes=SCOPES,
            consent_id=f"c_{uuid.uuid4().hex[:12]}",
            consent_version=1,
            terms_version="2026-01",
            purpose="share tunes",
            auth_time=1_700_000_000,
            nonce="n-0S6_WzA2Mj",
        )
        grant = replace(grant, **changes)
        self.allow(grant)
        return grant

    def allow(self, grant: Grant, *, allowed: bool = True, reason: str = "covered") -> None:
        """Set the fake consent check's answer for the grant's (user, app)."""
        self.consent.answers[(grant.user_key, grant.client_id)] = ConsentAnswer(
            allowed, reason, grant.consent_id, grant.consent_version, grant.terms_version
        )

    async def code(self, grant: Grant, *, redirect_uri: str = REDIRECT) -> tuple[str, str]:
        """(code, verifier) for the grant, as the authorize step would issue it."""
        verifier = secrets.token_urlsafe(48)
        code = await self.auth.container.oauth_codes.issue(
            grant=grant, redirect_uri=redirect_uri, code_challenge=s256(verifier)
        )
        return code, verifier

    def basic(self, client_id: str | None = None, secret: str | None = None) -> dict[str, str]:
        """The client_secret_basic header of the confidential app."""
        pair = f"{client_id or self.client_id}:{secret or self.secret}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    async def post(
        self, path: str, form: dict[str, str], *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """A form POST (the encoding every OAuth client uses)."""
        return await self.http.post(path, data=form, headers={**FORM, **(headers or {})})

    async def redeem(
        self, code: str, verifier: str | None, *, redirect_uri: str = REDIRECT, **extra: str
    ) -> httpx.Response:
        """The confidential app redeems a code (client_secret_basic)."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if verifier is not None:
            form["code_verifier"] = verifier
        return await self.post("/oauth/token", {**form, **extra}, headers=self.basic())

    async def tokens(self, grant: Grant | None = None) -> dict[str, Any]:
        """A fresh token response (200 asserted) for a grant (a new one by default)."""
        code, verifier = await self.code(grant or self.grant())
        response = await self.redeem(code, verifier)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def public_tokens(self) -> dict[str, Any]:
        """A fresh token response (200 asserted) of the public app (PKCE and client_id)."""
        code, verifier = await self.code(self.grant(client_id=self.public_id))
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": self.public_id,
        }
        response = await self.post("/oauth/token", form)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def refresh(self, refresh_token: str, **extra: str) -> httpx.Response:
        """The confidential app refreshes."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
        return await self.post("/oauth/token", form, headers=self.basic())


async def register_apps(auth: AuthHarness) -> tuple[str, str, str]:
    """(confidential client id, its secret, public client id) of two new apps."""
    dev = await new_developer(auth)
    made = await auth.http.post("/v1/apps", json=app_body(), headers=dev)
    assert made.status_code == 201, made.text
    public = await auth.http.post("/v1/apps", json=app_body(client_type="public"), headers=dev)
    assert public.status_code == 201, public.text
    answer = made.json()
    return answer["app"]["client_id"], answer["client_secret"], public.json()["app"]["client_id"]


def oauth_error(response: httpx.Response, status: int, error: str) -> None:
    """Assert an RFC 6749 5.2 error answer: status, `error`, a description, no-store."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert isinstance(body["error_description"], str)
    assert body["error_description"]
    assert response.headers["cache-control"] == "no-store"
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")
