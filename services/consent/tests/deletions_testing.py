"""Deletion-request test helpers: a real HTTP receiver, fake webhook targets, running containers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from consent.bootstrap import Container, bootstrap, build_deletions
from consent.config import ConsentSettings
from consent.service.deletion_ports import WebhookTarget
from kits_testing import Servers, read_since, topic_ends
from shared.topics import CONSENT_EVENTS

HANG = "hang"  # answer nothing for `Receiver.hang_s`
DRIP = "drip"  # a 200 whose body comes a byte every 0.1 s for `Receiver.hang_s`
BIG = "big"  # a 200 with a 1 MiB body
Answer = int | str


@dataclass(frozen=True)
class Call:
    """One request the receiver got."""

    at: float
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP/1.1 server on 127.0.0.1 answering each `webhook-id` from its own script
    (the last answer repeats); `redirect` answers send `Location: /elsewhere`."""

    script: Sequence[Answer]
    hang_s: float = 3.0
    calls: list[Call] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _seen: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The webhook URL (`/hooks/deletion`)."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks/deletion"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def calls_for(self, message_id: str) -> list[Call]:
        """The calls carrying this `webhook-id`."""
        return [c for c in self.calls if c.headers.get("webhook-id") == message_id]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = (await reader.readline()).decode()
            if not line.strip():
                return  # a connection that sent nothing (closed or probed): not a call
            headers: dict[str, str] = {}
            while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = raw.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            try:
                body = await reader.readexactly(int(headers.get("content-length", "0")))
            except asyncio.IncompleteReadError as exc:
                body = exc.partial  # the sender gave up mid-body: still a call
            path = line.split(" ")[1] if " " in line else ""
            self.calls.append(Call(time.time(), path, headers, body))
            message_id = headers.get("webhook-id", "")
            index = self._seen.get(message_id, 0)
            self._seen[message_id] = index + 1
            answer = self.script[min(index, len(self.script) - 1)]
            if answer == HANG:
                await asyncio.sleep(self.hang_s)
                return
            if answer in (DRIP, BIG):
                await self._stream(writer, drip=answer == DRIP)
                return
            extra = "Location: /elsewhere\r\n" if 300 <= int(answer) < 400 else ""
            writer.write(
                f"HTTP/1.1 {int(answer)} X\r\n{extra}Content-Length: 13\r\n"
                "Connection: close\r\n\r\nsecret-answer".encode()
            )
            await writer.drain()
        finally:
            writer.close()

    async def _stream(self, writer: asyncio.StreamWriter, *, drip: bool) -> None:
        size = int(self.hang_s * 10) if drip else 1024 * 1024
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
        if not drip:
            writer.write(b"x" * size)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            return
        for _ in range(size):
            writer.write(b"x")
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            await asyncio.sleep(0.1)


@dataclass
class FakeTargets:
    """The `WebhookTargets` port from a dict (core's app read model in the service)."""

    urls: dict[str, str] = field(default_factory=dict)

    async def target(self, app_id: str) -> WebhookTarget | None:
        """The app's webhook, if the test gave it one."""
        url = self.urls.get(app_id)
        return None if url is None else WebhookTarget(url=url)


def deletion_settings(servers: Servers, *, database: str, **overrides: Any) -> ConsentSettings:
    """Development settings with fast retries, on the real servers and the test's database."""
    values: dict[str, Any] = {
        "environment": "development",
        "kafka_bootstrap_servers": servers.kafka,
        "mongodb_url": servers.mongodb_url,
        "mongodb_database": database,
        "publish_deadline_s": 10.0,
        "deletion_retry_budget_s": 60.0,
        "deletion_backoff_s": 0.3,
        "deletion_max_backoff_s": 5.0,
        "deletion_jitter": 0.2,
        "deletion_timeout_s": 1.0,
        "deletion_claim_lease_s": 2.0,
        "deletion_poll_s": 0.05,
    }
    values.update(overrides)
    return ConsentSettings(**values)


def build(settings: ConsentSettings, targets: FakeTargets) -> Container:
    """A container whose deletions use the fake targets."""
    container = bootstrap(settings)
    container.deletions = build_deletions(
        settings=settings, runtime=container.runtime, targets=targets
    )
    return container


@contextlib.asynccontextmanager
async def running(settings: ConsentSettings, targets: FakeTargets) -> AsyncIterator[Container]:
    """A started container (stopped on exit)."""
    container = build(settings, targets)
    await container.start()
    try:
        yield container
    finally:
        await container.stop()


def new_ids() -> dict[str, Any]:
    """Fresh request arguments (the pairwise subject differs from the user key)."""
    tag = uuid.uuid4().hex[:10]
    return {
        "app_id": f"app-{tag}",
        "user_key": f"usr-{tag}",
        "consent_id": f"cns-{tag}",
        "consent_version": 2,
        "pairwise_subject": f"pw-{uuid.uuid4().hex}",
        "reason": "user",
    }


async def events_of(
    servers: Servers,
    *,
    since: dict[int, int],
    request_id: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout_s: float = 30.0,
) -> list[dict[str, Any]]:
    """The `consent.events` records (as JSON) of one request, from the given offsets until
    `until` holds and then on to the topic's end (so a duplicate would be seen too)."""

    def mine(records: list[Any]) -> list[dict[str, Any]]:
        found = []
        for record in records:
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                event = json.loads(record.value)
                if event.get("data", {}).get("request_id") == request_id:
                    found.append(event)
        return found

    records = await read_since(
        servers.kafka,
        CONSENT_EVENTS,
        since=since,
        until=lambda rs: until(mine(rs)),
        timeout_s=timeout_s,
    )
    ends = await topic_ends(servers.kafka, CONSENT_EVENTS)
    reached = dict(since)
    for record in records:
        reached[record.partition] = max(reached[record.partition], record.offset + 1)
    rest = {p: reached[p] for p in since if reached[p] < ends[p]}
    if rest:
        records += await read_since(
            servers.kafka,
            CONSENT_EVENTS,
            since=rest,
            until=lambda rs: all(
                any(r.partition == p and r.offset + 1 >= ends[p] for r in rs) for p in rest
            ),
            timeout_s=timeout_s,
        )
    return mine(records)


async def consent_topic_ends(servers: Servers) -> dict[int, int]:
    """Where `consent.events` ends now (tests read from here, never from the start)."""
    return await topic_ends(servers.kafka, CONSENT_EVENTS)


async def wait_for_outcome(db: AsyncDatabase[dict[str, Any]], request_id: str) -> dict[str, Any]:
    """The outcome document, once it is there and the request left the pending set."""
    async with asyncio.timeout(40):
        while True:
            outcome = await db["deletion_outcomes"].find_one({"_id": request_id})
            pending = await db["deletion_pending"].find_one({"_id": request_id})
            if outcome is not None and pending is None:
                return outcome
            await asyncio.sleep(0.05)


async def attempts(db: AsyncDatabase[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
    """The recorded attempts of a request, in attempt order."""
    docs = [d async for d in db["deletion_attempts"].find({"request_id": request_id})]
    return sorted(docs, key=lambda d: int(d["attempt"]))


SCREEN_IN_PRODUCTION: dict[str, Any] = {  # what the screen needs set outside development
    "issuer": "https://consent.example.com",
    "signing_keys": "A" * 43 + "=",
    "auth_callback_urls": "https://auth.example.com/oauth/consent/callback",
    "webhook_key": "k" * 40,
}
