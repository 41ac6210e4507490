"""Phone login on the real broker and database: codes, attempts, expiry, single use, limits."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from aiokafka.structs import ConsumerRecord

from auth.adapters.mongo_login import CHALLENGES, SESSIONS
from auth_testing import (
    AuthHarness,
    fictional_number,
    last_code,
    log_in,
    new_address,
    random_number,
    send_code,
    skip_ahead,
)
from kits_testing import Servers, read_since, topic_ends
from shared.mongo import Shards
from shared.topics import AUTH_EVENTS
from shared.user_tokens import UserTokenVerifier

pytestmark = pytest.mark.integration


async def test_a_login_sets_a_session_and_a_token_the_shared_verifier_accepts(
    auth: AuthHarness,
) -> None:
    phone = random_number()
    user_key = await log_in(auth.http, phone)
    session = await auth.http.get("/v1/session")
    assert session.status_code == 200
    assert session.json()["user_key"] == user_key
    cookie = next(c for c in auth.http.cookies.jar if c.name == auth.settings.session_cookie)
    assert cookie.secure
    assert cookie.has_nonstandard_attr("HttpOnly")
    token = (await auth.http.post("/v1/session/token")).json()["access_token"]
    jwks = (await auth.http.get("/.well-known/jwks.json")).json()
    verifier = UserTokenVerifier(
        issuer=auth.settings.issuer, audience="kits-platform", jwks=json.dumps(jwks)
    )
    assert await verifier.user_key(token) == user_key
    assert phone.lstrip("+") not in user_key


async def test_a_second_login_finds_the_same_user_and_logout_ends_the_session(
    auth: AuthHarness,
) -> None:
    phone = random_number()
    first = await log_in(auth.http, phone)
    await auth.http.post("/v1/logout")
    assert (await auth.http.get("/v1/session")).status_code == 401
    skip_ahead(auth, 61)
    second = await log_in(auth.http, phone)
    assert second == first


async def test_first_login_signs_up_and_later_ones_log_in_on_auth_events(
    auth: AuthHarness, servers: Servers
) -> None:
    phone = random_number()
    since = await topic_ends(servers.kafka, AUTH_EVENTS)
    user_key = await log_in(auth.http, phone)
    skip_ahead(auth, 61)
    await log_in(auth.http, phone)

    def mine(records: list[ConsumerRecord[bytes, bytes]]) -> list[ConsumerRecord[bytes, bytes]]:
        return [r for r in records if r.key == user_key.encode()]

    read = await read_since(
        servers.kafka, AUTH_EVENTS, since=since, until=lambda rs: len(mine(rs)) >= 2
    )
    records = mine(read)
    types = [json.loads(r.value)["type"] for r in records]
    assert types == ["auth.user_signed_up.v1", "auth.user_logged_in.v1"]
    for record in records:
        assert phone.lstrip("+") not in record.value.decode()


async def test_a_wrong_code_fails_and_the_code_is_single_use(auth: AuthHarness) -> None:
    phone = random_number()
    started = (await send_code(auth.http, phone)).json()
    code = await last_code(auth.http, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = await auth.http.post(
        "/v1/login/verify", json={"challenge": started["challenge"], "code": wrong}
    )
    assert refused.status_code == 400
    assert "wrong or has expired" in refused.json()["detail"]
    body = {"challenge": started["challenge"], "code": code}
    assert (await auth.http.post("/v1/login/verify", json=body)).status_code == 200
    assert (await auth.http.post("/v1/login/verify", json=body)).status_code == 400


async def test_after_five_wrong_guesses_even_the_right_code_is_refused(auth: AuthHarness) -> None:
    phone = random_number()
    started = (await send_code(auth.http, phone)).json()
    code = await last_code(auth.http, phone)
    for n in range(5):
        guess = f"{(int(code) + 1 + n) % 1_000_000:06d}"
        body = {"challenge": started["challenge"], "code": guess}
        assert (await auth.http.post("/v1/login/verify", json=body)).status_code == 400
    body = {"challenge": started["challenge"], "code": code}
    assert (await auth.http.post("/v1/login/verify", json=body)).status_code == 400


async def test_an_expired_code_is_refused(auth: AuthHarness) -> None:
    phone = random_number()
    started = (await send_code(auth.http, phone)).json()
    code = await last_code(auth.http, phone)
    real_clock = auth.container.login.clock
    auth.container.login.clock = lambda: real_clock() + auth.settings.otp_ttl_s + 1
    body = {"challenge": started["challenge"], "code": code}
    assert (await auth.http.post("/v1/login/verify", json=body)).status_code == 400
    assert started["expires_in"] == auth.settings.otp_ttl_s <= 300


async def test_32_concurrent_wrong_guesses_count_32_and_at_most_5_are_evaluated(
    auth: AuthHarness,
) -> None:
    phone = random_number()
    started = (await send_code(auth.http, phone)).json()
    code = await last_code(auth.http, phone)
    challenge = started["challenge"]
    guesses = [f"{(int(code) + 1 + n) % 1_000_000:06d}" for n in range(32)]
    answers = await asyncio.gather(
        *(
            auth.http.post("/v1/login/verify", json={"challenge": challenge, "code": g})
            for g in guesses
        )
    )
    assert [a.status_code for a in answers] == [400] * 32
    db = auth.container.runtime.db
    doc = await Shards(db, CHALLENGES).of(challenge).find_one({"_id": challenge})
    assert doc is not None
    attempts = await db["slots"].count_documents({"_id": {"$regex": f"^at:{challenge}:"}})
    assert attempts == 5  # evaluated: at most the challenge's budget
    failures = await db["slots"].count_documents({"_id": {"$regex": f"^vf:{challenge}:"}})
    assert failures == 32  # every guess counted against the number's hourly budget
    body = {"challenge": challenge, "code": code}
    assert (await auth.http.post("/v1/login/verify", json=body)).status_code == 400


async def test_32_concurrent_right_answers_log_in_once(auth: AuthHarness) -> None:
    phone = random_number()
    started = (await send_code(auth.http, phone)).json()
    code = await last_code(auth.http, phone)
    body = {"challenge": started["challenge"], "code": code}
    transport = auth.http._transport
    clients = [
        httpx.AsyncClient(transport=transport, base_url=str(auth.http.base_url)) for _ in range(32)
    ]
    answers = await asyncio.gather(*(c.post("/v1/login/verify", json=body) for c in clients))
    for client in clients:
        await client.aclose()
    assert sorted(a.status_code for a in answers) == [200] + [400] * 31
    sessions = await Shards(auth.container.runtime.db, SESSIONS).count()
    assert sessions == 1


async def test_32_concurrent_starts_for_one_number_send_one_code_that_minute(
    auth: AuthHarness,
) -> None:
    phone = random_number()
    answers = await asyncio.gather(*(send_code(auth.http, phone) for _ in range(32)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [202] + [429] * 31
    limited = next(a for a in answers if a.status_code == 429)
    assert 1 <= int(limited.headers["retry-after"]) <= 60


async def test_per_address_limit_counts_across_numbers(auth: AuthHarness) -> None:
    address = new_address()
    window = auth.settings.windows("start_limits_address")[0]
    # The windows are fixed buckets of the clock: a slow run must not cross into the next.
    start = (window.bucket(time.time()) + 0.5) * window.seconds
    auth.container.login.clock = lambda: start
    answers = [
        await send_code(auth.http, fictional_number(n), **address) for n in range(window.limit + 1)
    ]
    assert [a.status_code for a in answers] == [202] * window.limit + [429]


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("+1 650 253 00", "impossible"),
        ("+1 123 456 7890", "invalid"),
        ("1-800-FLOWERS", "only digits"),
        ("+1 201 555 O123", "only digits"),
        ("2015550123", "international form"),
        ("+999 1234 5678", "known country code"),
        ("", "give a phone number"),
    ],
)
async def test_an_unusable_number_is_a_422_that_does_not_echo_it(
    auth: AuthHarness, phone: str, reason: str
) -> None:
    answer = await send_code(auth.http, phone)
    assert answer.status_code == 422, answer.text
    assert reason in answer.text
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) >= 6:
        assert digits not in answer.text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"phone": 12015550123},
        {"phone": ["+12015550123"]},
        {"phone": "+12015550123", "extra": 1},
        {"phone": "+" + "1" * 100},
    ],
)
async def test_malformed_start_bodies_are_4xx(auth: AuthHarness, body: object) -> None:
    answer = await auth.http.post("/v1/login/start", json=body, headers=new_address())
    assert 400 <= answer.status_code < 500, answer.text
    assert "2015550123" not in answer.text


async def test_a_1mb_body_is_a_413(auth: AuthHarness) -> None:
    big = json.dumps({"phone": "+1" + "0" * (1024 * 1024)})
    answer = await auth.http.post(
        "/v1/login/start", content=big, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413


async def test_verify_failures_per_number_are_limited(auth: AuthHarness) -> None:
    phone = random_number()
    challenge = auth.container.login.challenge_of(phone)
    limit = auth.settings.windows("verify_failure_limits_number")[0].limit
    body = {"challenge": challenge, "code": "000000"}
    answers = await asyncio.gather(
        *(auth.http.post("/v1/login/verify", json=body) for _ in range(limit + 3))
    )
    codes = [a.status_code for a in answers]
    assert codes.count(400) == limit
    assert codes.count(429) == 3


async def test_sessions_expire_and_are_swept(auth: AuthHarness) -> None:
    await log_in(auth.http, random_number())
    sessions = auth.container.sessions
    real = sessions.clock
    sessions.clock = lambda: real() + auth.settings.session_ttl_s + 1
    assert (await auth.http.get("/v1/session")).status_code == 401
    sessions.clock = real
    auth.container.sweeper.clock = lambda: time.time() + 10 * 86_400
    await auth.container.sweeper.once()
    db = auth.container.runtime.db
    assert await Shards(db, SESSIONS).count() == 0
    assert await Shards(db, CHALLENGES).count() == 0
    assert await db["slots"].count_documents({}) == 0


async def test_the_login_page_says_when_to_retry_a_limited_number(auth: AuthHarness) -> None:
    form = await auth.http.get("/login")
    csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    body = {"phone": random_number(), "csrf": csrf, "next": "/login/done"}
    first = await auth.http.post("/login", data=body, headers=new_address())
    assert first.status_code == 200
    again = await auth.http.post("/login", data=body, headers=new_address())
    assert again.status_code == 429
    assert 1 <= int(again.headers["retry-after"]) <= 60
    assert 'role="alert"' in again.text
