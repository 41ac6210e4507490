"""E's real world: auth with its real token side, the real consent service answering auth's
consent check over HTTP, 5,000 UUID-keyed users each with a profile and a consent to one of 20
apps registered through auth's API.

Consent serves over a real socket of 127.0.0.1 (uvicorn, in this process and event loop: the
machine has 2 cores, so separate processes would not add capacity) and auth calls it with its
own pooled client (`HttpConsentCheck`, service tokens). Auth runs over ASGI in this process,
its transfers acknowledged by the real broker on a topic of this run. The consents are stored
as the consent service stores them (bulk, not timed), so its reads are the production reads.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr

from auth.bootstrap import Container as AuthContainer
from auth.config import AuthSettings
from auth.domain.grants import Grant
from auth.domain.identity import new_user_key
from auth.domain.pkce import s256
from auth.main import create_app
from bench.auth_data_world import seed as seed_profiles
from bench.consent_check import store_granted
from bench.env import BenchEnv
from consent.bootstrap import Container as ConsentContainer
from consent.config import CallerKeys, ConsentSettings
from consent.domain.apps import App
from consent.domain.model import Terms, grant
from consent.main import create_app as create_consent

USERS, APPS = 5_000, 20
SCOPES = ("user.info.basic", "user.info.profile", "user.info.stats")
TERMS = Terms(version="2026-11", recipients=("Tune Share Ltd",), retention_days=30)
REDIRECT = "https://tunes.example/callback"
ISSUER = "https://auth.bench"
PURPOSE = "show your profile in the app"


@dataclass
class Client:
    client_id: str
    secret: str

    def basic(self) -> dict[str, str]:
        pair = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}


@dataclass
class Consented:
    """One user's consent to one app, as the consent service stores it."""

    user_key: str
    client: Client
    consent_id: str
    pairwise_subject: str

    def grant(self) -> Grant:
        return Grant(
            client_id=self.client.client_id,
            user_key=self.user_key,
            pairwise_subject=self.pairwise_subject,
            scopes=SCOPES,
            consent_id=self.consent_id,
            consent_version=1,
            terms_version=TERMS.version,
            purpose=PURPOSE,
            auth_time=int(time.time()),
        )


@dataclass
class World:
    auth: AuthContainer
    http: httpx.AsyncClient  # to auth (ASGI)
    consent: ConsentContainer
    consent_url: str
    transfers_topic: str
    users: list[Consented]

    async def code(self, who: Consented) -> tuple[str, str]:
        """(code, verifier), as the authorize step issues it after the consent screen."""
        verifier = secrets.token_urlsafe(48)
        code = await self.auth.oauth_codes.issue(
            grant=who.grant(), redirect_uri=REDIRECT, code_challenge=s256(verifier)
        )
        return code, verifier

    async def redeem(self, who: Consented, code: str, verifier: str) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }
        return await self.http.post("/oauth/token", data=form, headers=who.client.basic())

    async def refresh(self, who: Consented, token: str) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": token}
        return await self.http.post("/oauth/token", data=form, headers=who.client.basic())

    async def revoke_consent(self, who: Consented) -> httpx.Response:
        """The user revokes at the consent service (their session token as auth signs it)."""
        token = self.auth.user_tokens.mint(user_key=who.user_key)
        async with httpx.AsyncClient(base_url=self.consent_url, timeout=20) as http:
            return await http.post(
                f"/v1/me/consents/{who.consent_id}/revoke",
                headers={"Authorization": f"Bearer {token}"},
            )


@contextlib.asynccontextmanager
async def world(env: BenchEnv) -> AsyncIterator[World]:
    """Auth and consent running, apps registered, users seeded (nothing here is timed)."""
    transfers = await env.topic("oauth-transfers")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # consent binds it again right below (the bench owns the machine)
    consent_url = f"http://127.0.0.1:{port}"
    settings = AuthSettings(
        environment="development",
        kafka_bootstrap_servers=env.bootstrap,
        mongodb_url=SecretStr(env.mongo_url),
        mongodb_database=env.database("auth_oauth").name,
        issuer=ISSUER,
        transfers_topic=transfers,
        consent_events_topic=await env.topic("oauth-consent-events"),
        consent_events_group=env.group("auth-consent"),
        consent_url=consent_url,
        consent_issuer=consent_url,
        consent_jwks_url=f"{consent_url}/.well-known/jwks.json",
        publish_deadline_s=10.0,
    )
    auth_app = create_app(settings)
    auth: AuthContainer = auth_app.state.container
    auth_jwks = json.dumps(auth.user_tokens.jwks())
    consent_settings = ConsentSettings(
        environment="development",
        kafka_bootstrap_servers=env.bootstrap,
        mongodb_url=SecretStr(env.mongo_url),
        mongodb_database=env.database("oauth_consent").name,
        events_topic=settings.consent_events_topic,
        auth_events_topic=await env.topic("oauth-auth-events"),
        auth_events_group=env.group("oauth-consent-auth"),
        publish_deadline_s=10.0,
        issuer=consent_url,
        user_token_issuer=ISSUER,
        user_token_audience=settings.user_token_audience,
        user_token_jwks=auth_jwks,
        service_callers={"auth": CallerKeys(jwks=auth_jwks)},
    )
    consent_app = create_consent(consent_settings, deletions=_NoDeletions())
    consent: ConsentContainer = consent_app.state.container
    async with (
        consent_app.router.lifespan_context(consent_app),
        _serve_on(consent_app, port) as url,
        auth_app.router.lifespan_context(auth_app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=auth_app), base_url=ISSUER) as http,
    ):
        assert url == consent_url
        clients = await _register(auth, http)
        for c in clients:
            await consent.apps.save(
                App(c.client_id, "Tune Share", SCOPES, TERMS, "https://t.example/terms", None)
            )
        users = await _seed_consents(consent, clients)
        await seed_profiles(auth.runtime.db, [u.user_key for u in users], random.Random(17))
        yield World(auth, http, consent, consent_url, transfers, users)


@contextlib.asynccontextmanager
async def _serve_on(app: Any, port: int) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110  # uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class _NoDeletions:
    """The deletion-request port (the webhooks are not what E times)."""

    async def request(self, *, consent_id: str, consent_version: int, **_: str) -> str:
        return f"dr-{consent_id}-{consent_version}"


async def _register(auth: AuthContainer, http: httpx.AsyncClient) -> list[Client]:
    """20 confidential apps, registered through auth's HTTP API by one developer."""
    _, key = await auth.apps.developers.create(name=f"Bench Dev {uuid.uuid4().hex[:6]}")
    body: dict[str, Any] = {
        "name": "Tune Share",
        "client_type": "confidential",
        "redirect_uris": [REDIRECT],
        "allowed_scopes": list(SCOPES),
        "terms": {
            "terms_url": "https://tunes.example/terms",
            "terms_version": TERMS.version,
            "recipients": list(TERMS.recipients),
            "retention_days": TERMS.retention_days,
        },
        "privacy_policy_url": "https://tunes.example/privacy",
        "deletion_webhook_url": "https://tunes.example/hooks/delete",
    }
    clients = []
    for _ in range(APPS):
        made = await http.post("/v1/apps", json=body, headers={"Authorization": f"Bearer {key}"})
        assert made.status_code == 201, made.text
        clients.append(Client(made.json()["app"]["client_id"], made.json()["client_secret"]))
    return clients


async def _seed_consents(consent: ConsentContainer, clients: list[Client]) -> list[Consented]:
    """5,000 users (UUIDv7 keys), each with a consent to one app, stored as consent stores them."""
    db, at = consent.runtime.db, datetime.now(UTC).replace(microsecond=0)
    users, granted = [], []
    for n in range(USERS):
        user, client = new_user_key(), clients[n % APPS]
        made = grant(
            None,
            user_key=user,
            app_id=client.client_id,
            scopes=SCOPES,
            purpose=PURPOSE,
            terms=TERMS,
            pairwise_subject=uuid.uuid4().hex,
            at=at,
        )
        assert made is not None
        granted.append(made)
        users.append(Consented(user, client, made.consent_id, made.pairwise_subject))
    await store_granted(db, granted, shards=consent.settings.collection_shards)
    return users
