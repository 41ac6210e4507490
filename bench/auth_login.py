"""C1: phone-code verification through auth's HTTP API, next to a bare HMAC + `_id` find.

Production-shaped: 5,000 users already have accounts (their lookups under the current key),
and 2,000 logins run, four in five by those users and one in five by new numbers (a sign-up).
Every code is first sent by a real start (not timed); then the verifications are timed, 8 at a
time, through the app (FastAPI over ASGI, the real database, and each event acknowledged by the
real broker on a topic of this run). The baseline is what no login can do without: the keyed
hash of the number and one `_id` find of its lookup (in its shard, as login reads it), with the
same concurrency.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import phonenumbers
from pydantic import SecretStr

from auth.adapters.mongo_login import LOOKUPS
from auth.config import AuthSettings
from auth.domain.identity import lookup_id, new_user_key
from auth.main import create_app
from bench.env import BenchEnv
from bench.figures import Results, percentile, rate
from shared.events import CloudEvent
from shared.kafka.publisher import DurablePublisher
from shared.mongo import Shards

AREA = "C. auth"
USERS, LOGINS, NEW_SHARE, CONCURRENCY = 5_000, 2_000, 0.2, 8
RATE_TARGET, P99_TARGET_MS = 200.0, 50.0
HEADER = "x-bench-client"


def numbers(count: int) -> list[str]:
    """Distinct fictional numbers (NANP 555-01XX of every area code that has it)."""
    found: list[str] = []
    for area in range(201, 1000):
        probe = phonenumbers.parse(f"+1{area}5550100", None)
        if not phonenumbers.is_valid_number(probe):
            continue
        found.extend(f"+1{area}55501{n:02d}" for n in range(100))
        if len(found) >= count:
            return found[:count]
    raise ValueError(f"only {len(found)} fictional numbers exist")


class RunTopicPublisher:
    """The login's publisher, sending to this run's topic through the same durable path."""

    def __init__(self, durable: DurablePublisher, topic: str) -> None:
        self._durable, self._topic = durable, topic

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> Any:
        return await self._durable.publish_raw(
            topic=self._topic, value=event.to_bytes(), key=event.key(), headers={}
        )


async def _concurrently(
    calls: list[Callable[[], Awaitable[bool]]],
) -> tuple[float, list[float], int]:
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    ok = 0

    async def one(call: Callable[[], Awaitable[bool]]) -> None:
        nonlocal ok
        async with gate:
            started = time.perf_counter()
            done = await call()
            latencies.append(time.perf_counter() - started)
            ok += done  # after the await: `ok += await …` would read `ok` before it

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - started, latencies, ok


async def run_login(env: BenchEnv, results: Results) -> None:
    """Seed, send every code, time the verifications and the baseline."""
    phones = numbers(USERS + int(LOGINS * NEW_SHARE))
    known, fresh = phones[:USERS], phones[USERS:]
    logins = [*known[: LOGINS - len(fresh)], *fresh]
    settings = AuthSettings(
        environment="development",
        kafka_bootstrap_servers=env.bootstrap,
        mongodb_url=SecretStr(env.mongo_url),
        mongodb_database=env.database("auth").name,
        client_address_header=HEADER,
        start_limits_address="60:10000",
        publish_deadline_s=10.0,  # the registry's claim lease must be 4 times this
    )
    app = create_app(settings)
    container = app.state.container
    topic = await env.topic("auth-events")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://auth.bench"
        ) as http,
    ):
        container.login.publisher = RunTopicPublisher(container.runtime.publisher, topic)
        key_id, key = settings.lookup_key_id, settings.lookup_key_map()[settings.lookup_key_id]
        await _seed(container.runtime.db, known, key_id=key_id, key=key)
        challenges = await _send_codes(http, logins)
        codes = [container.dev_sms.last_code(p) for p in logins]

        async def verify(challenge: str, code: str) -> bool:
            answer = await http.post(
                "/v1/login/verify", json={"challenge": challenge, "code": code}
            )
            return answer.status_code == 200

        wall, latencies, ok = await _concurrently(
            [functools.partial(verify, c, k or "") for c, k in zip(challenges, codes, strict=True)]
        )
        lookups = Shards(container.runtime.db, LOOKUPS)

        async def bare(phone: str) -> bool:
            digest = hmac.new(key, b"lookup\x00" + phone.encode(), hashlib.sha256).hexdigest()
            return await lookups.of(digest).find_one({"_id": digest}) is not None

        base_wall, base_lat, found = await _concurrently(
            [functools.partial(bare, p) for p in logins]
        )
    _figures(results, wall=wall, latencies=latencies, base_wall=base_wall, base_lat=base_lat)
    results.check(f"C1 every verification logged in ({ok} of {LOGINS})", ok == LOGINS)
    results.check(f"C1 baseline found every login's lookup ({found} of {LOGINS})", found == LOGINS)


def _figures(
    results: Results,
    *,
    wall: float,
    latencies: list[float],
    base_wall: float,
    base_lat: list[float],
) -> None:
    verify_rate, base_rate = rate(LOGINS, wall), rate(LOGINS, base_wall)
    label = f"{LOGINS:,} logins, {USERS:,} users, {CONCURRENCY} at a time"
    results.add(
        AREA,
        f"C1 code verifications through HTTP ({label})",
        verify_rate,
        "verifications/s",
        target=RATE_TARGET,
    )
    results.add(AREA, "C1 verification p50", percentile(latencies, 50) * 1e3, "ms")
    results.add(
        AREA,
        "C1 verification p99",
        percentile(latencies, 99) * 1e3,
        "ms",
        target=P99_TARGET_MS,
        compare="<=",
    )
    results.add(AREA, "C1 baseline: HMAC + lookup find by _id", base_rate, "lookups/s")
    results.add(AREA, "C1 baseline p99", percentile(base_lat, 99) * 1e3, "ms")
    results.add(
        AREA, "C1 ratio verification / baseline", verify_rate / base_rate if base_rate else 0.0, "x"
    )


async def _seed(db: Any, known: list[str], *, key_id: str, key: bytes) -> None:
    users, lookups = [], []
    for phone in known:
        user_key = new_user_key()
        users.append({"_id": user_key})
        lookups.append({"_id": lookup_id(key, e164=phone), "key_id": key_id, "user_key": user_key})
    for start in range(0, len(known), 1000):
        await db["users"].insert_many(users[start : start + 1000])
    shards, by_shard = Shards(db, LOOKUPS), dict[str, list[dict[str, str]]]()
    for doc in lookups:
        by_shard.setdefault(shards.of(doc["_id"]).name, []).append(doc)
    for name, docs in by_shard.items():
        await db[name].insert_many(docs)


async def _send_codes(http: httpx.AsyncClient, phones: list[str]) -> list[str]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(phone: str) -> str:
        async with gate:
            answer = await http.post(
                "/v1/login/start", json={"phone": phone}, headers={HEADER: uuid.uuid4().hex}
            )
        if answer.status_code != 202:
            raise RuntimeError(f"start answered {answer.status_code}: {answer.text[:200]}")
        challenge: str = answer.json()["challenge"]
        return challenge

    return list(await asyncio.gather(*(one(p) for p in phones)))
