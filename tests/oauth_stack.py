"""Auth and the real consent service side by side on live ports, wired as `make up` wires
them, for the tests of the OAuth flow through the consent screen (HTTP client or browser)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from apps_testing import EventsSince, app_body, bearer
from consent_live import LiveConsent, live_consent
from oauth_fakes import FakeAuthorizationCodes
from pymongo import AsyncMongoClient

from auth.bootstrap import bootstrap
from auth.config import AuthSettings
from auth.main import create_app
from auth_testing import auth_settings
from kits_browser import free_socket, live_server
from kits_testing import Servers


@dataclass
class Stack:
    """Auth and consent, serving; the fake codes store auth issues into; the app's id."""

    auth: str
    consent: LiveConsent
    settings: AuthSettings
    codes: FakeAuthorizationCodes
    client_id: str


async def new_developer_key(settings: AuthSettings) -> str:
    """A developer account made through auth's own service (as `auth-admin` does)."""
    helper = bootstrap(settings)
    try:
        _, key = await helper.apps.developers.create(name="Flow Dev")
    finally:
        await helper.consent_check.aclose()  # type: ignore[attr-defined]  # the HTTP adapter
        await helper.runtime.client.close()
    return key


async def register_app(
    stack_auth: str, settings: AuthSettings, consent: LiveConsent, redirect_uris: tuple[str, ...]
) -> str:
    """Register an app over auth's HTTP API, and hand auth's registration event to consent."""
    since = await EventsSince(settings.kafka_bootstrap_servers).mark()
    body = app_body(
        redirect_uris=list(redirect_uris), allowed_scopes=["user.info.basic", "video.list"]
    )
    async with httpx.AsyncClient(base_url=stack_auth, timeout=30) as http:
        answer = await http.post(
            "/v1/apps", json=body, headers=bearer(await new_developer_key(settings))
        )
    assert answer.status_code == 201, answer.text
    client_id: str = answer.json()["app"]["client_id"]
    (event,) = await since.read(client_id, until=lambda found: len(found) >= 1, settle_s=0.2)
    await consent.forward(value=event.to_bytes(), key=event.key())
    await consent.until_app(client_id)
    return client_id


@contextlib.asynccontextmanager
async def oauth_stack(
    servers: Servers,
    *,
    redirect_uris: tuple[str, ...],
    secure_cookies: bool,
    auth_overrides: dict[str, Any] | None = None,
) -> AsyncIterator[Stack]:
    """Auth and consent on free ports of 127.0.0.1, wired to each other as deployed, with one
    app registered (over auth's API; its event handed to consent); then both torn down
    (`auth_overrides`: more auth settings, e.g. the dashboard's audit URL)."""
    auth_sock, consent_sock = free_socket(), free_socket()
    auth_url = f"http://127.0.0.1:{auth_sock.getsockname()[1]}"
    consent_url = f"http://127.0.0.1:{consent_sock.getsockname()[1]}"
    auth_jwks = f"{auth_url}/.well-known/jwks.json"
    settings = auth_settings(
        servers,
        issuer=auth_url,
        consent_url=consent_url,
        consent_issuer=consent_url,
        consent_jwks_url=f"{consent_url}/.well-known/jwks.json",
        session_cookie_secure=secure_cookies,
        **(auth_overrides or {}),
    )
    codes = FakeAuthorizationCodes()
    async with live_consent(
        servers,
        sock=consent_sock,
        issuer=consent_url,
        service_callers={"auth": {"jwks_url": auth_jwks}},
        user_token_issuer=auth_url,
        user_token_jwks="",
        user_token_jwks_url=auth_jwks,
        auth_callback_urls=f"{auth_url}/oauth/consent/callback",
    ) as consent:
        try:
            async with live_server(create_app(settings, oauth_codes=codes), sock=auth_sock) as url:
                assert url == auth_url
                client_id = await register_app(url, settings, consent, redirect_uris)
                yield Stack(url, consent, settings, codes, client_id)
        finally:
            client: AsyncMongoClient[dict[str, Any]]
            async with AsyncMongoClient(servers.mongodb_url) as client:
                await client.drop_database(settings.database_name)
