"""The Login Kit as an OAuth client sees it: Authlib's AsyncOAuth2Client over httpx.

Discovery document, PKCE S256, `state`, the RFC 9207 `iss` check, ID-token validation with
joserfc, client_secret_basic, refresh-token rotation, and the data API calls.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

PROFILE_FIELDS = "open_id,display_name,avatar_url,bio_description,profile_deep_link"
VIDEO_FIELDS = "id,title,cover_image_url,duration,create_time"


class Revoked(Exception):
    """The platform refused the app's tokens: the user revoked access."""


class LoginFailed(Exception):
    """The sign-in could not be completed (the message says why, for the user)."""


@dataclass(frozen=True)
class Start:
    url: str
    state: str
    verifier: str
    nonce: str


class Platform:
    """One app's view of the platform: `client_id`, secret, discovery at `auth_url`."""

    def __init__(
        self,
        *,
        auth_url: str,
        auth_api_url: str = "",
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scopes: str,
        timeout_s: float,
    ) -> None:
        self._auth_url, self._scopes, self._timeout = auth_url.rstrip("/"), scopes, timeout_s
        self._api_url = (auth_api_url or auth_url).rstrip("/")
        self._client_id, self._secret, self._redirect = client_id, client_secret, redirect_uri
        self._meta: dict[str, Any] | None = None
        self._jwks: KeySet | None = None
        self._http = httpx.AsyncClient(timeout=timeout_s)

    async def close(self) -> None:
        await self._http.aclose()

    def _client(self, token: dict[str, Any] | None = None) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=self._secret,
            scope=self._scopes,
            redirect_uri=self._redirect,
            token_endpoint_auth_method="client_secret_basic",
            code_challenge_method="S256",
            token=token,
            timeout=self._timeout,
        )

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (fetched once)."""
        if self._meta is None:
            r = await self._http.get(f"{self._api_url}/.well-known/openid-configuration")
            r.raise_for_status()
            meta = dict(r.json())
            for name in ("token_endpoint", "jwks_uri", "revocation_endpoint"):
                if isinstance(meta.get(name), str):  # back-channel: the app's own route to auth
                    meta[name] = meta[name].replace(self._auth_url, self._api_url, 1)
            self._meta = meta
        return self._meta

    async def start(self) -> Start:
        """A fresh authorization URL with its state, PKCE verifier and nonce."""
        meta = await self.metadata()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                meta["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
            )
        return Start(url=url, state=state, verifier=verifier, nonce=nonce)

    async def finish(
        self, *, params: dict[str, str], state: str, verifier: str, nonce: str
    ) -> dict[str, Any]:
        """Exchange the callback's code; checks `iss` (RFC 9207) and the ID token."""
        meta = await self.metadata()
        if params.get("iss") != meta["issuer"]:
            raise LoginFailed("the answer did not come from the platform (iss mismatch)")
        if not secrets.compare_digest(params.get("state", "").encode(), state.encode()):
            raise LoginFailed("the answer does not belong to this sign-in (state mismatch)")
        if "error" in params:
            raise LoginFailed(f"the platform said: {params['error']}")
        async with self._client() as client:
            try:
                token = await client.fetch_token(
                    meta["token_endpoint"],
                    code=params.get("code", ""),
                    state=state,
                    code_verifier=verifier,
                    authorization_response=None,
                )
            except (OAuthError, httpx.HTTPError) as exc:
                raise LoginFailed(f"the code could not be exchanged ({exc})") from exc
        if "id_token" in token:
            await self._check_id_token(token["id_token"], nonce=nonce)
        return dict(token)

    async def _check_id_token(self, id_token: str, *, nonce: str) -> None:
        meta = await self.metadata()
        if self._jwks is None:
            r = await self._http.get(meta["jwks_uri"])
            r.raise_for_status()
            self._jwks = KeySet.import_key_set(r.json())
        try:
            decoded = jwt.decode(id_token, self._jwks, algorithms=["RS256"])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": meta["issuer"]},
                aud={"essential": True, "value": self._client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise LoginFailed(f"the ID token is not valid ({exc})") from exc

    async def refresh(self, token: dict[str, Any]) -> dict[str, Any]:
        """A rotated token pair; `Revoked` on invalid_grant."""
        meta = await self.metadata()
        async with self._client(token) as client:
            try:
                new = await client.refresh_token(
                    meta["token_endpoint"], refresh_token=token["refresh_token"]
                )
            except OAuthError as exc:
                if exc.error == "invalid_grant":
                    raise Revoked from exc
                raise
        return dict(new)

    async def fresh(self, token: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The token, refreshed first when it expires within 30 s; (token, rotated)."""
        if float(token.get("expires_at", 0)) - 30 > time.time():
            return token, False
        return await self.refresh(token), True

    async def _data(
        self,
        method: str,
        path: str,
        token: dict[str, Any],
        fields: str,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        r = await self._http.request(
            method,
            f"{self._api_url}{path}",
            params={"fields": fields},
            json=body,
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        if r.status_code in (401, 403):
            raise Revoked(r.json().get("error", {}).get("code", str(r.status_code)))
        r.raise_for_status()
        return dict(r.json()["data"])

    async def profile(self, token: dict[str, Any]) -> dict[str, Any]:
        data = await self._data("GET", "/v2/user/info/", token, PROFILE_FIELDS)
        return dict(data["user"])

    async def videos(self, token: dict[str, Any]) -> list[dict[str, Any]]:
        data = await self._data("POST", "/v2/video/list/", token, VIDEO_FIELDS, {"max_count": 20})
        return list(data["videos"])
