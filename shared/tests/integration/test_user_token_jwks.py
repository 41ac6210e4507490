"""The user-token verifier against a real JWKS server: one fetch at a time, at most one per
interval, rotation, and auth away (with and without keys fetched before)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey

from shared.user_tokens import (
    MAX_JWKS_BYTES,
    USER_TOKEN_TYP,
    InvalidUserToken,
    KeysUnavailable,
    UserTokenVerifier,
)

pytestmark = pytest.mark.integration
ISSUER, AUDIENCE = "https://auth.example", "kits-platform"
REFRESH_S, MIN_REFETCH_S = 300.0, 10.0


def new_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519", parameters={"kid": f"k-{uuid.uuid4().hex[:8]}"})


def token(key: OKPKey, *, kid: str | None = None, sub: str = "uk_alice") -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "exp": now + 300}
    header = {"alg": "Ed25519", "typ": USER_TOKEN_TYP, "kid": kid or key.kid}
    return jwt.encode(header, claims, key, algorithms=["Ed25519"])


@dataclass
class Auth:
    """A real HTTP server on 127.0.0.1 serving a JWKS this test controls; it counts GETs."""

    keys: list[OKPKey]
    answer: str = "jwks"  # or: "500", "not json", "no keys", "huge", "redirect"
    delay_s: float = 0.0
    gets: int = 0
    server: ThreadingHTTPServer | None = None
    port: int = 0
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    def body(self) -> tuple[int, bytes]:
        document = {"keys": [k.as_dict(private=False) for k in self.keys]}
        answers = {
            "jwks": (200, json.dumps(document).encode()),
            "500": (500, b"auth is restarting"),
            "not json": (200, b"<html>maintenance</html>"),
            "no keys": (200, b'{"keys": []}'),
            "huge": (200, b'{"keys": [' + b" " * (MAX_JWKS_BYTES + 10) + b"]}"),
            "redirect": (302, b""),
        }
        return answers[self.answer]

    def start(self) -> None:
        auth = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                auth.gets += 1
                time.sleep(auth.delay_s)
                code, body = auth.body()
                self.send_response(code)
                if code == 302:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Auth away: nothing listens on the port any more (connections are refused)."""
        assert self.server is not None
        assert self._thread is not None
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()
        self.server = None


@pytest.fixture
def auth() -> Iterator[Auth]:
    server = Auth(keys=[new_key()])
    server.start()
    yield server
    if server.server is not None:
        server.stop()


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier(auth: Auth, clock: Clock) -> UserTokenVerifier:
    return UserTokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url=auth.url,
        development=True,  # http to loopback
        refresh_s=REFRESH_S,
        min_refetch_s=MIN_REFETCH_S,
        timeout_s=2.0,
        clock=clock,
    )


async def test_concurrent_first_requests_share_one_fetch(auth: Auth) -> None:
    auth.delay_s = 0.3  # every request arrives while the first fetch is in flight
    tokens = verifier(auth, Clock())
    users = await asyncio.gather(
        *(tokens.user_key(token(auth.keys[0], sub=f"u{i}")) for i in range(40))
    )
    assert users == [f"u{i}" for i in range(40)]
    assert auth.gets == 1


async def test_a_flood_of_unknown_kids_costs_one_fetch_per_interval(auth: Auth) -> None:
    clock = Clock()
    tokens = verifier(auth, clock)
    assert await tokens.user_key(token(auth.keys[0])) == "uk_alice"
    forger = new_key()
    for _ in range(3):
        flood = [token(forger, kid=uuid.uuid4().hex) for _ in range(100)]
        results = await asyncio.gather(*(tokens.user_key(t) for t in flood), return_exceptions=True)
        assert all(isinstance(r, InvalidUserToken) for r in results)
    assert auth.gets == 1  # within the interval: no refetch at all
    clock.now += MIN_REFETCH_S
    results = await asyncio.gather(
        *(tokens.user_key(token(forger, kid=uuid.uuid4().hex)) for _ in range(100)),
        return_exceptions=True,
    )
    assert all(isinstance(r, InvalidUserToken) for r in results)
    assert auth.gets == 2  # one more, for the whole flood


async def test_a_rotated_key_is_fetched_once_and_a_removed_one_stops_verifying(auth: Auth) -> None:
    clock = Clock()
    tokens = verifier(auth, clock)
    old, new = auth.keys[0], new_key()
    assert await tokens.user_key(token(old)) == "uk_alice"
    auth.keys = [new]  # auth rotates: the new key only
    clock.now += MIN_REFETCH_S
    assert await tokens.user_key(token(new)) == "uk_alice"
    assert await tokens.user_key(token(new, sub="uk_bob")) == "uk_bob"
    assert auth.gets == 2
    with pytest.raises(InvalidUserToken, match="unknown kid"):
        await tokens.user_key(token(old))


@pytest.mark.parametrize("away", ["stopped", "500", "not json", "no keys", "huge", "redirect"])
async def test_auth_away_keeps_the_cached_keys(auth: Auth, away: str) -> None:
    clock = Clock()
    tokens = verifier(auth, clock)
    key = auth.keys[0]
    assert await tokens.user_key(token(key)) == "uk_alice"
    if away == "stopped":
        auth.stop()
    else:
        auth.answer = away
    clock.now += REFRESH_S + 1  # the cache is due for a refresh, which fails
    assert await tokens.user_key(token(key, sub="uk_bob")) == "uk_bob"
    with pytest.raises(InvalidUserToken):
        await tokens.user_key(token(new_key()))
    with pytest.raises(InvalidUserToken):
        await tokens.user_key("garbage")
    clock.now += MIN_REFETCH_S
    assert await tokens.user_key(token(key, sub="uk_carol")) == "uk_carol"


@pytest.mark.parametrize("away", ["stopped", "500", "not json", "no keys", "huge", "redirect"])
async def test_keys_never_fetched_is_503_for_a_well_formed_token_only(
    auth: Auth, away: str
) -> None:
    clock = Clock()
    key = auth.keys[0]
    if away == "stopped":
        auth.stop()
    else:
        auth.answer = away
    tokens = verifier(auth, clock)
    with pytest.raises(KeysUnavailable) as unavailable:
        await tokens.user_key(token(key))
    assert unavailable.value.retry_after_s == MIN_REFETCH_S
    for malformed in ("garbage", "a.b.c", f"{token(key)}.x"):
        with pytest.raises(InvalidUserToken):
            await tokens.user_key(malformed)
    if away == "stopped":
        auth.start()  # on the same port
    auth.answer = "jwks"
    with pytest.raises(KeysUnavailable):
        await tokens.user_key(token(key))  # not retried within the interval
    clock.now += MIN_REFETCH_S
    assert await tokens.user_key(token(key)) == "uk_alice"
