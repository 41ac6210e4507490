"""Failure-drill helpers: a private database pair, a steady producer, a group's progress.

The database pair is the test's own (`scripts/servers.py db --instance NAME`, its own ports and
data under `.local/db/NAME/`), so stopping it disturbs nobody; Kafka is the shared broker, used
through fresh topics and groups only.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from audit.adapters.kafka_records import KafkaRecords
from audit_events import granted, logged_in
from kits_testing import eventually
from shared.events import make_event
from shared.kafka.broker import topic_partitions

ROOT = Path(__file__).resolve().parents[3]
SERVERS = ROOT / "scripts" / "servers.py"


def free_port() -> int:
    """A port nothing listens on right now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class DbPair:
    """A private PostgreSQL + FerretDB pair, driven through the project's own script."""

    instance: str
    pg_port: int
    port: int

    @property
    def mongodb_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def up(self, *, only: str | None = None) -> None:
        """Start the pair, or one half of it (`postgres`, `ferretdb`)."""
        self._run("up", "--pg-port", str(self.pg_port), "--port", str(self.port), only=only)

    def down(self, *, only: str | None = None, kill: bool = False) -> None:
        """Stop the pair, or one half of it; `kill` is SIGKILL (a crash)."""
        self._run("down", *(["--kill"] if kill else []), only=only)

    def _run(self, action: str, *extra: str, only: str | None) -> None:
        cmd = [sys.executable, str(SERVERS), "db", action, "--instance", self.instance, *extra]
        subprocess.run(
            [*cmd, *(["--only", only] if only else [])],
            check=True,
            cwd=ROOT,
            timeout=180,
            stdout=subprocess.DEVNULL,
        )


@contextmanager
def private_db(name: str) -> Iterator[DbPair]:
    """A running private pair on free ports for the duration; stopped afterwards (its data
    stays in `.local/db/NAME/` for the next run: tests use fresh database names in it)."""
    pair = DbPair(instance=name, pg_port=free_port(), port=free_port())
    pair.down()  # what a crashed earlier run may have left running (on other ports)
    pair.up()
    try:
        yield pair
    finally:
        pair.down()


@dataclass
class AuditProcess:
    """The audit service as a real process (its console script): started, SIGKILLed, started
    again, stopped; `audit-admin` run with the same environment."""

    env: dict[str, str]
    log: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [_script("audit")],
                env={**os.environ, **self.env, "AUDIT_HTTP_PORT": str(self.port)},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def live(self, *, timeout_s: float = 60) -> None:
        """Wait until it answers /health/live."""
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as client:

            async def answers() -> bool:
                try:
                    return (await client.get("/health/live", timeout=2)).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(answers, timeout_s=timeout_s, every_s=0.2)

    async def latest_checkpoint(self) -> dict[str, Any] | None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as client:
            response = await client.get("/ledger/checkpoints/latest", timeout=5)
        found: dict[str, Any] | None = response.json() if response.status_code == 200 else None
        return found

    def tail(self, lines: int = 30) -> str:
        """The end of its log (both runs' output goes to one file), for a failure message."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(line[:400] for line in text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        assert self.proc is not None
        assert self.proc.poll() is None, f"audit died on its own:\n{self.tail()}"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def admin(self, *args: str) -> tuple[int, dict[str, Any]]:
        """`audit-admin ARGS` with the service's environment: exit status and its JSON."""
        done = subprocess.run(
            [_script("audit-admin"), *args],
            env={**os.environ, **self.env},
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.stdout, done.stderr.decode(errors="replace")[-2000:]
        return done.returncode, json.loads(done.stdout)


def _script(name: str) -> str:
    """A console script of the environment the tests run in."""
    return str(Path(sys.executable).parent / name)


@dataclass
class SteadyFlow:
    """Publishes events at a steady rate to fresh topics: half logins, half consent grants
    (facts to project), each keyed by a UUID-length user key."""

    bootstrap: str
    topics: Sequence[str]
    per_s: int
    sent: int = 0

    async def run(self, *, total: int) -> int:
        """Publish `total` events at `per_s`, each acknowledged; returns how many."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True, linger_ms=5
        )
        await producer.start()
        started = time.monotonic()
        try:
            while self.sent < total:
                due = min(total, int((time.monotonic() - started) * self.per_s) + 1)
                batch = [self._send(producer, self.sent + i) for i in range(due - self.sent)]
                await asyncio.gather(*batch)
                self.sent = due
                await asyncio.sleep(0.02)
        finally:
            await producer.stop()
        return self.sent

    async def _send(self, producer: AIOKafkaProducer, n: int) -> None:
        user = str(uuid.uuid4())
        data = logged_in(user) if n % 2 else granted(user, f"app_{n % 7}", consent_id=f"c_{n}")
        event = make_event(data, source="/drill")
        topic = self.topics[n % len(self.topics)]
        await producer.send_and_wait(topic, value=event.to_bytes(), key=user.encode())


async def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
    """The end offset of every partition of these topics."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts: list[TopicPartition] = [
            tp for t in topics for tp in await topic_partitions(consumer, t)
        ]
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}


async def records_in(bootstrap: str, topic: str) -> int:
    """How many records a topic holds (end minus beginning, over its partitions)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await topic_partitions(consumer, topic)
        ends = await consumer.end_offsets(parts)
        starts = await consumer.beginning_offsets(parts)
    finally:
        await consumer.stop()
    return sum(ends[tp] - starts[tp] for tp in parts)


async def committed_total(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    """How far the group has committed, summed over the partitions."""
    return sum((await KafkaRecords(bootstrap=bootstrap).committed(group, topics)).values())


async def caught_up(
    bootstrap: str, group: str, topics: Sequence[str], *, timeout_s: float = 120
) -> None:
    """Wait until the group has committed every record of every partition."""
    source = KafkaRecords(bootstrap=bootstrap)
    ends = await end_offsets(bootstrap, topics)

    async def done() -> bool:
        return await source.committed(group, topics) == ends

    await eventually(done, timeout_s=timeout_s, every_s=0.5)
