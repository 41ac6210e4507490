"""D. consent: the service on the real servers, its data, and D2, the check's throughput.

Production-shaped: 5,000 users with UUID keys, each with a consent to one of 20 apps (bulk
stored as the service stores versions and heads), plus the consents D1 grants through the
service. D2 runs 4,000 checks through the HTTP API (FastAPI over ASGI, a service token, the
real database), 32 at a time, over random users: four in five covered, one in five refused
(a user without consent, or a scope not granted). The service answering D2 runs as deployed: a
process of its own (uvicorn on 127.0.0.1, `bench.service_process`) on the same database, so the
bench's client does not share the service's core; D1 and the baseline use the in-process one.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx
from joserfc import jwt
from joserfc.jwk import OKPKey
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from bench.env import BenchEnv
from bench.figures import Results, percentile, rate
from bench.service_process import serving
from consent.adapters.mongo_consents import HEADS, VERSIONS, head_id, to_document, version_id
from consent.bootstrap import Container
from consent.config import CallerKeys, ConsentSettings
from consent.domain.apps import App
from consent.domain.model import Consent, Terms, grant
from consent.main import create_app
from shared.mongo import shard_name
from shared.service_tokens import SERVICE_TOKEN_TYP
from shared.user_tokens import USER_TOKEN_TYP

AREA = "D. consent"
USERS, APPS, CHECKS, CONCURRENCY = 5_000, 20, 4_000, 32
RATE_TARGET = 500.0
SCOPES = ("user.info.basic", "video.list")
ISSUER, AUDIENCE = "https://auth.bench", "kits-platform"


@dataclass
class Running:
    """The consent app of the run, its client, its topic and the keys that sign tokens."""

    container: Container
    http: httpx.AsyncClient
    topic: str
    user_key: OKPKey
    service_key: OKPKey
    apps: list[str]
    settings: ConsentSettings

    def as_user(self, user: str) -> dict[str, str]:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": user, "iat": now, "exp": now + 300}
        header = {"alg": "Ed25519", "typ": USER_TOKEN_TYP, "kid": self.user_key.kid}
        token = jwt.encode(header, claims, self.user_key, algorithms=["Ed25519"])
        return {"Authorization": f"Bearer {token}"}

    def as_service(self) -> dict[str, str]:
        now = int(time.time())
        claims = {"iss": "auth", "sub": "auth", "aud": "consent", "iat": now, "exp": now + 300}
        header = {"alg": "Ed25519", "typ": SERVICE_TOKEN_TYP, "kid": self.service_key.kid}
        token = jwt.encode(header, claims, self.service_key, algorithms=["Ed25519"])
        return {"Authorization": f"Bearer {token}"}


class CountedDeletions:
    """The deletion-request port, counting (the webhooks are not what D1 times)."""

    def __init__(self) -> None:
        self.requests: set[tuple[str, int]] = set()

    async def request(self, *, consent_id: str, consent_version: int, **_: str) -> str:
        self.requests.add((consent_id, consent_version))
        return f"dr-{consent_id}-{consent_version}"


def _jwks(key: OKPKey) -> str:
    return json.dumps({"keys": [key.as_dict(private=False)]})


@asynccontextmanager
async def running(env: BenchEnv) -> AsyncIterator[Running]:
    """The consent app on this run's database and topics, with 20 apps and 5,000 users."""
    user_key = OKPKey.generate_key("Ed25519", parameters={"kid": "bench-user"})
    service_key = OKPKey.generate_key("Ed25519", parameters={"kid": "bench-auth"})
    topic = await env.topic("consent-events")
    settings = ConsentSettings(
        environment="development",
        kafka_bootstrap_servers=env.bootstrap,
        mongodb_url=SecretStr(env.mongo_url),
        mongodb_database=env.database("consent").name,
        events_topic=topic,
        auth_events_topic=await env.topic("auth-events"),
        auth_events_group=env.group("consent-auth"),
        publish_deadline_s=60.0,
        user_token_issuer=ISSUER,
        user_token_audience=AUDIENCE,
        user_token_jwks=_jwks(user_key),
        service_callers={"auth": CallerKeys(jwks=_jwks(service_key))},
    )
    app = create_app(settings, deletions=CountedDeletions())
    container: Container = app.state.container
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://consent"
        ) as http,
    ):
        apps = [f"app-{uuid.uuid4()}" for _ in range(APPS)]
        for app_id in apps:
            await container.apps.save(_app(app_id))
        yield Running(container, http, topic, user_key, service_key, apps, settings)


def _app(app_id: str) -> App:
    terms = Terms(version="2026-11", recipients=("analytics.example",), retention_days=30)
    return App(app_id, app_id, SCOPES, terms, "https://a.example/terms", None)


async def seed(run: Running) -> list[tuple[str, str]]:
    """5,000 (user, app) consents stored as the service stores them (bulk, not timed)."""
    db, at = run.container.runtime.db, datetime.now(UTC).replace(microsecond=0)
    pairs = [(str(uuid.uuid4()), run.apps[n % APPS]) for n in range(USERS)]
    granted = []
    for user, app_id in pairs:
        c = grant(
            None,
            user_key=user,
            app_id=app_id,
            scopes=("user.info.basic",),
            purpose="login",
            terms=_app(app_id).terms,
            pairwise_subject=f"ps-{uuid.uuid4().hex}",
            at=at,
        )
        assert c is not None
        granted.append(c)
    await store_granted(db, granted, shards=run.container.settings.collection_shards)
    return pairs


async def store_granted(
    db: AsyncDatabase[dict[str, Any]], granted: Sequence[Consent], *, shards: int
) -> None:
    """Each first version (published) and its head, bulk, in the collections the consent
    service reads them from, as it stores them (not timed)."""
    by_shard: dict[str, list[dict[str, Any]]] = {}
    for c in granted:
        doc = to_document(c)
        version = {"_id": version_id(c.consent_id, 1), **doc, "event": b"", "published": True}
        head = {"_id": head_id(c.user_key, c.app_id), **doc}
        by_shard.setdefault(shard_name(VERSIONS, c.consent_id, shards=shards), []).append(version)
        by_shard.setdefault(shard_name(HEADS, head["_id"], shards=shards), []).append(head)
    for name, part in by_shard.items():
        for start in range(0, len(part), 100):
            await db[name].insert_many(part[start : start + 100])


async def run_checks(run: Running, results: Results, pairs: list[tuple[str, str]]) -> None:
    """D2: 4,000 checks, 32 at a time."""
    rng, headers = random.Random(7), run.as_service()
    asks: list[tuple[dict[str, Any], bool]] = []
    for n in range(CHECKS):
        user, app_id = rng.choice(pairs)
        if n % 5 == 4:  # refused: no consent for that app, or a scope never granted
            body, expect = {"user_key": user, "app_id": app_id, "scopes": ["video.list"]}, False
        else:
            body, expect = {"user_key": user, "app_id": app_id, "scopes": ["user.info.basic"]}, True
        asks.append((body, expect))
    gate, latencies, right = asyncio.Semaphore(CONCURRENCY), [], 0

    async def one(http: aiohttp.ClientSession, body: dict[str, Any], expect: bool) -> None:
        nonlocal right
        async with gate:
            started = time.perf_counter()
            async with http.post("/v1/checks", json=body, headers=headers) as answer:
                status, verdict = answer.status, await answer.json()
            latencies.append(time.perf_counter() - started)
        right += status == 200 and verdict["allowed"] is expect

    async with (
        serving("consent.main:create_app", _own_group(run.settings)) as url,
        aiohttp.ClientSession(
            base_url=url, connector=aiohttp.TCPConnector(limit=CONCURRENCY)
        ) as http,
    ):
        async with http.post("/v1/checks", json=asks[0][0], headers=headers) as warm:
            assert warm.status == 200, await warm.text()
        started = time.perf_counter()
        await asyncio.gather(*(one(http, b, e) for b, e in asks))
        wall = time.perf_counter() - started
    label = f"{CHECKS:,} over {USERS:,} users, {CONCURRENCY} at a time, a process of its own"
    results.add(
        AREA,
        f"D2 checks through HTTP ({label})",
        rate(CHECKS, wall),
        "checks/s",
        target=RATE_TARGET,
    )
    results.add(AREA, "D2 check p50", percentile(latencies, 50) * 1e3, "ms")
    results.add(AREA, "D2 check p99", percentile(latencies, 99) * 1e3, "ms")
    results.check(f"D2 every check answered as expected ({right} of {CHECKS})", right == CHECKS)
    await _baseline(run, results, asks)


def _own_group(settings: ConsentSettings) -> ConsentSettings:
    """The same service in a consumer group of its own (not the in-process one's, which would
    make the two rebalance, and leave a member behind when the process is stopped)."""
    return settings.model_copy(update={"auth_events_group": f"{settings.auth_events_group}-d2"})


async def _baseline(
    run: Running, results: Results, asks: list[tuple[dict[str, Any], bool]]
) -> None:
    """The same checks through `Checks.check` directly: what the HTTP layer (ASGI, token
    verification, validation) adds, on this machine at this moment."""
    gate, latencies = asyncio.Semaphore(CONCURRENCY), []

    async def one(body: dict[str, Any]) -> None:
        async with gate:
            started = time.perf_counter()
            await run.container.checks.check(
                user_key=body["user_key"], app_id=body["app_id"], scopes=tuple(body["scopes"])
            )
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(b) for b, _ in asks))
    wall = time.perf_counter() - started
    results.add(AREA, "D2 baseline: Checks.check without HTTP", rate(CHECKS, wall), "checks/s")
    results.add(AREA, "D2 baseline p99", percentile(latencies, 99) * 1e3, "ms")
