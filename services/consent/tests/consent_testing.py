"""Consent test helpers: settings on the real servers, tokens, fakes of consent's own ports."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import OKPKey

from consent.bootstrap import Container
from consent.config import ConsentSettings
from kits_testing import Servers
from shared.events import CloudEvent, EventData, make_event
from shared.events.auth import AppRegistered, AppTermsUpdated, UserDeleted
from shared.service_tokens import SERVICE_TOKEN_TYP
from shared.user_tokens import USER_TOKEN_TYP

ISSUER, AUDIENCE = "https://auth.test", "kits-platform"
USER_TOKEN_KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "test-user-token-key"})
CALLER_KEYS = {
    name: OKPKey.generate_key("Ed25519", parameters={"kid": f"test-{name}-service-key"})
    for name in ("auth", "sound")
}
SCOPES = ("user.info.basic", "video.list", "sound.share")


def user_token(user_key: str, *, key: OKPKey = USER_TOKEN_KEY, **claims: Any) -> str:
    """A user session token as auth will sign it (signed here with the test key)."""
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": user_key, "iat": now, "exp": now + 300}
    header = {"alg": "Ed25519", "typ": USER_TOKEN_TYP, "kid": key.kid}
    return jwt.encode(header, {**payload, **claims}, key, algorithms=["Ed25519"])


def as_user(user_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user_token(user_key)}"}


def service_token(caller: str = "auth", *, key: OKPKey | None = None, **claims: Any) -> str:
    """A service token as a calling service signs it (README: service-to-service calls)."""
    now = int(time.time())
    payload = {"iss": caller, "sub": caller, "aud": "consent", "iat": now, "exp": now + 60}
    signer = key or CALLER_KEYS[caller]
    header = {"alg": "Ed25519", "typ": SERVICE_TOKEN_TYP, "kid": signer.kid}
    return jwt.encode(header, {**payload, **claims}, signer, algorithms=["Ed25519"])


def as_service(caller: str = "auth") -> dict[str, str]:
    return {"Authorization": f"Bearer {service_token(caller)}"}


def consent_settings(servers: Servers, **overrides: Any) -> ConsentSettings:
    """Development settings on the real servers: the test's own database, topics and group."""
    callers = {
        name: {"jwks": json.dumps({"keys": [key.as_dict(private=False)]})}
        for name, key in CALLER_KEYS.items()
    }
    values: dict[str, Any] = {
        "environment": "development",
        "kafka_bootstrap_servers": servers.kafka,
        "mongodb_url": servers.mongodb_url,
        "mongodb_database": f"t_consent_{uuid.uuid4().hex[:12]}",
        "auth_events_group": f"t-consent-{uuid.uuid4().hex[:10]}",
        "publish_deadline_s": 10.0,
        "user_token_issuer": ISSUER,
        "user_token_audience": AUDIENCE,
        "user_token_jwks": json.dumps({"keys": [USER_TOKEN_KEY.as_dict(private=False)]}),
        "service_callers": callers,
        **overrides,
    }
    return ConsentSettings(**values)


def new_user() -> str:
    return f"uk_{uuid.uuid4().hex[:16]}"


def new_app() -> str:
    return f"app_{uuid.uuid4().hex[:10]}"


def registered(
    app_id: str, *, terms: str = "t1", scopes: tuple[str, ...] = SCOPES
) -> AppRegistered:
    return AppRegistered(
        app_id=app_id,
        name=f"App {app_id}",
        redirect_uris=("https://app.example/cb",),
        allowed_scopes=scopes,
        terms_version=terms,
        terms_url="https://app.example/terms",
        recipients=("analytics.example",),
        retention_days=30,
    )


def terms_updated(app_id: str, *, new: str, previous: str = "t1") -> AppTermsUpdated:
    return AppTermsUpdated(
        app_id=app_id,
        terms_version=new,
        previous_terms_version=previous,
        terms_url=f"https://app.example/terms/{new}",
        recipients=("analytics.example", "ads.example"),
        retention_days=60,
    )


def user_deleted(user_key: str) -> UserDeleted:
    return UserDeleted(user_key=user_key)


@dataclass
class FakeDeletionRequester:
    """The `DeletionRequester` port in memory: one request per (consent, version)."""

    requests: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    calls: int = 0

    async def request(
        self,
        *,
        app_id: str,
        user_key: str,
        consent_id: str,
        consent_version: int,
        pairwise_subject: str,
        reason: str,
    ) -> str:
        self.calls += 1
        entry = self.requests.setdefault(
            (consent_id, consent_version),
            {
                "id": f"dr_{uuid.uuid4().hex[:12]}",
                "app_id": app_id,
                "pairwise_subject": pairwise_subject,
                "reason": reason,
            },
        )
        del user_key
        request_id: str = entry["id"]
        return request_id


Send = Callable[[EventData], Awaitable[CloudEvent[Any]]]


@dataclass
class ConsentHarness:
    """The consent app on the real broker and database, an HTTP client, its test topics."""

    container: Container
    http: httpx.AsyncClient
    deletions: FakeDeletionRequester
    events_topic: str
    auth_topic: str
    send_auth: Send

    @property
    def settings(self) -> ConsentSettings:
        return self.container.settings

    async def register(self, app_id: str, *, terms: str = "t1") -> None:
        """Register an app through auth's event, and wait until consent knows it."""
        await self.send_auth(registered(app_id, terms=terms))
        await self.until_app(app_id, terms=terms)

    async def until_app(self, app_id: str, *, terms: str, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            app = await self.container.apps.get(app_id)
            if app is not None and app.terms.version == terms:
                return
            await _pause()
        raise AssertionError(f"consent never saw {app_id} at terms {terms}")

    async def check(self, user_key: str, app_id: str, scopes: tuple[str, ...] = SCOPES[:1]) -> Any:
        response = await self.http.post(
            "/v1/checks",
            json={"user_key": user_key, "app_id": app_id, "scopes": list(scopes)},
            headers=as_service(),
        )
        assert response.status_code == 200, response.text
        return response.json()


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.05)


def event_of(data: EventData) -> CloudEvent[Any]:
    return make_event(data, source="/t-auth")
