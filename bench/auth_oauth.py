"""E2 and E3: the OAuth token endpoint, and revocation-to-refusal, on the real world of
`bench.auth_oauth_world` (real token side, real consent service over HTTP, 5,000 users).

E2: 2,000 authorization-code redemptions (client_secret_basic, PKCE S256, each a consent check
over HTTP, a transfer record and an `auth.token_issued.v1` acknowledged by the broker, the
family and refresh token stored), 32 at a time; then 2,000 refresh-token rotations of the
tokens they issued, 32 at a time. The codes are issued beforehand as the authorize step issues
them (not timed). Next to each: raw aiokafka `acks=all` produces of the very transfer records
those requests wrote, at the same concurrency (the raw floor of one durable write).

E3: 200 runs, one after the other, each on a different user: the user revokes the consent at
the consent service (`POST /v1/me/consents/{id}/revoke`); the moment it returns, the app's old
access token asks for user info. The time from the revoke call's start to the refusal's
arrival, and whether the very first call after the revoke was refused (it must be, always).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.auth_oauth_world import Consented, World
from bench.figures import Results, percentile, rate

AREA = "E. Login Kit data"
CODES, REFRESHES, CONCURRENCY, REVOCATIONS = 2_000, 2_000, 32, 200
RATE_TARGET, P99_TARGET_MS, REVOKE_P99_TARGET_MS = 250.0, 50.0, 250.0
INFO = "/v2/user/info/?fields=open_id,display_name"


async def concurrently(
    calls: list[Callable[[], Awaitable[httpx.Response]]], *, concurrency: int = CONCURRENCY
) -> tuple[float, list[float], list[httpx.Response]]:
    """Run the calls `concurrency` at a time: (wall seconds, latencies, answers in order)."""
    gate, latencies = asyncio.Semaphore(concurrency), []

    async def one(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        async with gate:
            started = time.perf_counter()
            answer = await call()
            latencies.append(time.perf_counter() - started)
            return answer

    started = time.perf_counter()
    answers = await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - started, latencies, list(answers)


async def run_tokens(
    world: World, results: Results, raw: Callable[..., Awaitable[tuple[float, list[float]]]]
) -> list[tuple[Consented, dict[str, object]]]:
    """E2; returns (user, token response) of every refreshed family, for E1 and E3."""
    who = world.users[:CODES]
    codes = [await world.code(w) for w in who]
    wall, lat, answers = await concurrently(
        [functools.partial(world.redeem, w, c, v) for w, (c, v) in zip(who, codes, strict=True)]
    )
    ok = [a.status_code for a in answers].count(200)
    results.check(f"E2 every code redeemed once, 200 ({ok} of {CODES})", ok == CODES)
    raw_wall, raw_lat = await raw(CODES)
    _figures(results, "code grant", CODES, wall, lat, raw_wall, raw_lat)

    issued = [a.json() for a in answers]
    refresh_who = who[:REFRESHES]
    wall, lat, answers = await concurrently(
        [
            functools.partial(world.refresh, w, str(t["refresh_token"]))
            for w, t in zip(refresh_who, issued, strict=False)
        ]
    )
    ok = [a.status_code for a in answers].count(200)
    results.check(f"E2 every refresh rotated, 200 ({ok} of {REFRESHES})", ok == REFRESHES)
    raw_wall, raw_lat = await raw(REFRESHES)
    _figures(results, "refresh grant", REFRESHES, wall, lat, raw_wall, raw_lat)
    rotated = [a.json() for a in answers]
    return list(zip(refresh_who, rotated, strict=True))


def _figures(
    results: Results,
    grant: str,
    count: int,
    wall: float,
    lat: list[float],
    raw_wall: float,
    raw_lat: list[float],
) -> None:
    label = f"{count:,} over 20 apps and {count:,} users, {CONCURRENCY} at a time"
    results.add(
        AREA,
        f"E2 token endpoint, {grant}",
        rate(count, wall),
        "req/s",
        note=label,
        target=RATE_TARGET,
    )
    p50, p99 = percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3
    results.add(AREA, f"E2 {grant} p50", p50, "ms")
    results.add(AREA, f"E2 {grant} p99", p99, "ms", target=P99_TARGET_MS, compare="<=")
    raw50, raw99 = percentile(raw_lat, 50) * 1e3, percentile(raw_lat, 99) * 1e3
    results.add(
        AREA,
        f"E2 raw aiokafka acks=all, its transfer records, at {CONCURRENCY}",
        rate(count, raw_wall),
        "msg/s",
    )
    results.add(AREA, f"E2 raw produce p50 ({grant})", raw50, "ms")
    results.add(AREA, f"E2 raw produce p99 ({grant})", raw99, "ms")
    results.add(AREA, f"E2 ratio {grant} / raw produce, p50", p50 / raw50 if raw50 else 0.0, "x")
    results.add(AREA, f"E2 ratio {grant} / raw produce, p99", p99 / raw99 if raw99 else 0.0, "x")


async def run_revocations(
    world: World, results: Results, families: list[tuple[Consented, dict[str, object]]]
) -> None:
    """E3: revoke in consent, then at once the next data call; REVOCATIONS runs."""
    took, refused_first, served_before = [], 0, 0
    for who, token in families[-REVOCATIONS:]:
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        before = await world.http.get(INFO, headers=headers)
        served_before += before.status_code == 200
        started = time.perf_counter()
        revoked = await world.revoke_consent(who)
        assert revoked.status_code == 200, revoked.text
        answer = await world.http.get(INFO, headers=headers)
        took.append(time.perf_counter() - started)
        refused_first += answer.status_code in (401, 403)
    n = len(took)
    results.check(
        f"E3 each token served before its revoke ({served_before} of {n})", served_before == n
    )
    results.check(
        f"E3 the very next data call after the revoke refused ({refused_first} of {n})",
        refused_first == n == REVOCATIONS,
    )
    results.add(AREA, f"E3 revocation-to-refusal p50 ({n} runs)", percentile(took, 50) * 1e3, "ms")
    results.add(
        AREA,
        f"E3 revocation-to-refusal p99 ({n} runs)",
        percentile(took, 99) * 1e3,
        "ms",
        target=REVOKE_P99_TARGET_MS,
        compare="<=",
    )
