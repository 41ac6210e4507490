"""E1: Login Kit user info through auth's HTTP API with the write-ahead transfer record, next to
raw aiokafka `acks=all` produces of the same records at the same concurrency.

Production-shaped, the real world of `bench.auth_oauth_world`: 5,000 users with UUIDv7 keys,
each with a profile and 3 to 10 videos (bulk stored as the profile store stores them) and a
consent (stored as the consent service stores it) to one of 20 apps registered through auth's
API. The access tokens are the real ones E2 got from the token endpoint (2,000 families), and
every request's consent check goes to the real consent service over HTTP. 3,000 requests for
every user-info field (`user.info.basic`, `.profile`, `.stats`), 32 at a time, through the app
(FastAPI over ASGI in this process, the real database, each record acknowledged by the real
broker on a topic of this run); then 1,000 more, 8 at a time. After each, the raw baseline sends
the very records those requests wrote (read back from that topic) with a plain
`AIOKafkaProducer` configured as the service's (acks=all, idempotent, linger 5 ms, 1 MiB
batches), `send_and_wait` at the same concurrency. Then each part of a request alone, 32 at a
time: the profile read, the transfer record through the durable publisher, the handler without
HTTP (token verification, the consent check over HTTP, the read, the record). Then E3.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
from aiokafka import AIOKafkaProducer

from auth.bootstrap import Container
from auth.domain.grants import ConsentAnswer, Grant
from bench import auth_oauth
from bench.auth_data_world import read_back
from bench.auth_oauth_world import SCOPES, USERS, world
from bench.env import BenchEnv
from bench.figures import Results, percentile, rate

AREA = "E. Login Kit data"
REQUESTS, WARM_UP, CONCURRENCY = 3_000, 200, 32
LOW_CONCURRENCY, LOW_REQUESTS = 8, 1_000
RECORD_ALONE = "transfer record alone (DurablePublisher)"
RATIO_TARGET = 1.5
FIELDS = "open_id,display_name,avatar_url,bio_description,profile_deep_link,video_count"
DOUBLES = "real access tokens (token endpoint), consent check over HTTP"


async def _concurrently(
    calls: list[Callable[[], Awaitable[object]]], *, concurrency: int = CONCURRENCY
) -> tuple[float, list[float]]:
    gate, latencies = asyncio.Semaphore(concurrency), []

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - started, latencies


async def run_data(env: BenchEnv, results: Results) -> None:
    """The real world (`bench.auth_oauth_world`): E2, the token endpoint, whose tokens E1 then
    uses; E1 at 32 and at 8 at a time (the user-info requests, and raw produces of the very
    records they wrote; then each part of a request alone); last E3, revocation-to-refusal."""
    async with world(env) as w:
        topic, written = w.transfers_topic, [0]

        async def raw_of_last(
            count: int, concurrency: int = CONCURRENCY
        ) -> tuple[float, list[float]]:
            written[0] += count
            records = await read_back(env.bootstrap, topic, count=written[0])
            return await _raw(env, records[-count:], concurrency=concurrency)

        families = await auth_oauth.run_tokens(w, results, raw_of_last)
        by_user = [str(t["access_token"]) for _, t in families]
        grants = {str(t["access_token"]): who.grant() for who, t in families}
        rng = random.Random(17)
        run = _Asker(w.http)
        await run.ask_all([rng.choice(by_user) for _ in range(WARM_UP)], concurrency=CONCURRENCY)
        written[0] += WARM_UP
        for concurrency, count in ((CONCURRENCY, REQUESTS), (LOW_CONCURRENCY, LOW_REQUESTS)):
            run.statuses.clear()
            wall, latencies = await run.ask_all(
                [rng.choice(by_user) for _ in range(count)], concurrency=concurrency
            )
            raw_wall, raw_lat = await raw_of_last(count, concurrency)
            _figures(
                results,
                at=(concurrency, count),
                wall=wall,
                latencies=latencies,
                raw=(raw_wall, raw_lat),
            )
            ok = run.statuses.count(200)
            results.check(
                f"E1 every request answered 200 at {concurrency} ({ok} of {count})", ok == count
            )
        records = await read_back(env.bootstrap, topic, count=written[0])
        pieces = await _pieces(w.auth, grants, by_user, rng)
        await auth_oauth.run_revocations(w, results, families)
    raw50 = percentile(raw_lat, 50)
    for name, values in pieces.items():
        results.add(
            AREA, f"E1 part at {CONCURRENCY}: {name} p50", percentile(values, 50) * 1e3, "ms"
        )
    recorded = percentile(pieces[RECORD_ALONE], 50)
    results.add(
        AREA,
        f"E1 ratio record alone (at {CONCURRENCY}) / raw produce (at {LOW_CONCURRENCY}), p50",
        recorded / raw50 if raw50 else 0.0,
        "x",
    )
    _digests(results, bodies=run.bodies, records=[v for _, v in records])


class _Asker:
    """Sends user-info requests and keeps each answer's status and body (by its log id)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.bodies: dict[str, bytes] = {}
        self.statuses: list[int] = []

    async def ask(self, token: str) -> None:
        answer = await self.http.get(
            f"/v2/user/info/?fields={FIELDS}", headers={"Authorization": f"Bearer {token}"}
        )
        self.statuses.append(answer.status_code)
        if answer.status_code == 200:
            self.bodies[json.loads(answer.content)["error"]["log_id"]] = answer.content

    async def ask_all(self, tokens: list[str], *, concurrency: int) -> tuple[float, list[float]]:
        return await _concurrently(
            [functools.partial(self.ask, t) for t in tokens], concurrency=concurrency
        )


async def _pieces(
    container: Container, grants: dict[str, Grant], by_user: list[str], rng: random.Random
) -> dict[str, list[float]]:
    """What one request is made of, each alone at the same concurrency (no HTTP): the profile
    read, the transfer record (the durable publisher), and the whole handler."""
    api, sample = container.data_api, [rng.choice(by_user) for _ in range(1000)]
    chosen = [grants[t] for t in sample]
    consent = ConsentAnswer(True, "covered")
    body = b'{"data":{"user":{"open_id":"x"}},"error":{"code":"ok","message":"","log_id":"b"}}'
    _, reads = await _concurrently(
        [
            functools.partial(container.profiles.page, g.user_key, cursor=None, max_count=1)
            for g in chosen
        ]
    )
    record = functools.partial(
        container.transfers.record,
        consent=consent,
        scopes_used=SCOPES,
        fields_released=("open_id",),
        body=body,
    )
    _, recorded = await _concurrently(
        [functools.partial(record, grant=g, request_id=f"bench-{uuid.uuid4().hex}") for g in chosen]
    )
    _, handled = await _concurrently(
        [
            functools.partial(
                api.user_info, token=t, fields=FIELDS, log_id=f"bench-{uuid.uuid4().hex}"
            )
            for t in sample
        ]
    )
    return {
        "profile read alone (5,000 users)": reads,
        RECORD_ALONE: recorded,
        "handler without HTTP (verify, consent, read, record)": handled,
    }


async def _raw(
    env: BenchEnv, records: list[tuple[bytes | None, bytes]], *, concurrency: int
) -> tuple[float, list[float]]:
    """The same records, `send_and_wait` at the same concurrency, by a producer configured as
    auth's (while auth's own producer is still connected, so both run on the same machine
    state)."""
    topic = await env.topic("transfers-raw")
    producer = AIOKafkaProducer(
        bootstrap_servers=env.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=1024 * 1024,
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=b"warm-up", key=b"warm-up")
        return await _concurrently(
            [functools.partial(producer.send_and_wait, topic, value=v, key=k) for k, v in records],
            concurrency=concurrency,
        )
    finally:
        await producer.stop()


def _figures(
    results: Results,
    *,
    at: tuple[int, int],
    wall: float,
    latencies: list[float],
    raw: tuple[float, list[float]],
) -> None:
    concurrency, count = at
    label = f"{count:,} over {USERS:,} users, {concurrency} at a time; {DOUBLES}"
    name = f"E1 user info through HTTP at {concurrency}, record first"
    results.add(AREA, name, rate(count, wall), "req/s", note=label)
    p50, p99 = percentile(latencies, 50) * 1e3, percentile(latencies, 99) * 1e3
    raw50, raw99 = percentile(raw[1], 50) * 1e3, percentile(raw[1], 99) * 1e3
    results.add(AREA, f"E1 user info p50 at {concurrency}", p50, "ms")
    results.add(AREA, f"E1 user info p99 at {concurrency}", p99, "ms")
    results.add(
        AREA,
        f"E1 raw aiokafka acks=all, same records, at {concurrency}",
        rate(count, raw[0]),
        "msg/s",
    )
    results.add(AREA, f"E1 raw produce p50 at {concurrency}", raw50, "ms")
    results.add(AREA, f"E1 raw produce p99 at {concurrency}", raw99, "ms")
    for q, data, base in (("p50", p50, raw50), ("p99", p99, raw99)):
        results.add(
            AREA,
            f"E1 ratio user info / raw produce, {q} at {concurrency}",
            data / base if base else 0.0,
            "x",
            target=RATIO_TARGET,
            compare="<=",
        )


def _digests(results: Results, *, bodies: dict[str, bytes], records: list[bytes]) -> None:
    digests = {}
    for value in records:
        data = json.loads(value)["data"]
        digests[data["request_id"]] = data["digest_sha256"]
    matched = sum(
        digests.get(log_id) == hashlib.sha256(b).hexdigest() for log_id, b in bodies.items()
    )
    total = WARM_UP + REQUESTS + LOW_REQUESTS
    results.check(
        f"E1 every answer's SHA-256 is its record's digest ({matched} of {total})",
        matched == len(bodies) == total,
    )
