"""`/health/ready` on the real broker: a group with lag that stopped moving makes it fail."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from faststream import AckPolicy

from kits_testing import Servers
from shared.http import health_router
from shared.kafka.health import ConsumerWatch
from shared.runtime import Runtime
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration
STALL_S = 1.0


async def produce(bootstrap: str, topic: str, count: int, *, every_s: float = 0.0) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(count):
            await producer.send_and_wait(topic, value=b'{"n": %d}' % n, partition=0)
            await asyncio.sleep(every_s)
    finally:
        await producer.stop()


def runtime_for(servers: Servers, *, group: str, topic: str, handler: Any) -> Runtime:
    settings = ServiceSettings(
        environment="development",
        service_name="it-ready",
        kafka_bootstrap_servers=servers.kafka,
        mongodb_url=servers.mongodb_url,  # type: ignore[arg-type]
        mongodb_database="t_ready",
        consumer_stall_s=STALL_S,
    )
    runtime = Runtime.build(settings)
    runtime.consumer_groups.append(group)
    runtime.broker.subscriber(
        topic,
        group_id=group,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
    )(handler)
    return runtime


@contextlib.asynccontextmanager
async def serving(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(health_router(readiness=runtime.readiness))
    await runtime.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        await runtime.stop()


async def test_a_group_whose_offset_does_not_move_fails_readiness_then_recovers(
    servers: Servers,
    unique: Callable[[str], str],
    make_topic: Callable[..., Awaitable[str]],
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    topic, group = await make_topic(unique("it-stall")), unique("it-stall-group")
    await produce(servers.kafka, topic, 3)
    release = asyncio.Event()

    async def stuck(body: Any) -> None:
        await release.wait()  # a handler that never finishes, like a poison record retried

    answers: list[httpx.Response] = []

    async def unready() -> bool:
        answers.append(await client.get("/health/ready"))
        return answers[-1].status_code == 503

    async with serving(runtime_for(servers, group=group, topic=topic, handler=stuck)) as client:
        started = time.monotonic()
        try:
            first = await client.get("/health/ready")
            assert first.status_code == 200, first.text
            assert first.json()["checks"] == {"kafka": True, "database": True, "consumers": True}
            await wait_until(unready, timeout_s=20, every_s=0.2)
            assert time.monotonic() - started >= STALL_S
            body = answers[-1].json()
            assert body["checks"] == {"kafka": True, "database": True, "consumers": False}
            [reason] = body["reasons"]
            assert reason.startswith(f"consumer group {group} stalled on 1 partition(s), lag 3: ")
            assert f"{topic}[0] lag 3 at no commit since " in reason
        finally:
            release.set()

        async def ready() -> bool:
            answers.append(await client.get("/health/ready"))
            return answers[-1].status_code == 200

        await wait_until(ready, timeout_s=20, every_s=0.2)
        assert answers[-1].json()["reasons"] == []


async def test_a_group_that_keeps_up_never_fails_readiness(
    servers: Servers,
    unique: Callable[[str], str],
    make_topic: Callable[..., Awaitable[str]],
) -> None:
    topic, group = await make_topic(unique("it-busy")), unique("it-busy-group")
    seen: list[Any] = []

    async def quick(body: Any) -> None:
        seen.append(body)

    async with serving(runtime_for(servers, group=group, topic=topic, handler=quick)) as client:
        flow = asyncio.create_task(produce(servers.kafka, topic, 60, every_s=0.05))
        codes, started = [], time.monotonic()
        while not flow.done():
            codes.append((await client.get("/health/ready")).status_code)
            await asyncio.sleep(0.1)
        await flow
    assert time.monotonic() - started >= 2 * STALL_S
    assert set(codes) == {200}
    assert len(seen) == 60


async def test_an_idle_group_at_the_end_never_fails_and_new_lag_starts_the_clock(
    servers: Servers,
    unique: Callable[[str], str],
    make_topic: Callable[..., Awaitable[str]],
    group_at_end: Callable[..., Awaitable[None]],
) -> None:
    topic, group = await make_topic(unique("it-idle")), unique("it-idle-group")
    dropped = await make_topic(unique("it-idle-dropped"))
    await produce(servers.kafka, topic, 5)
    await group_at_end(group, [topic, dropped])
    await produce(servers.kafka, dropped, 2)  # a topic the group no longer reads moves on
    watch = ConsumerWatch(bootstrap=servers.kafka, stall_s=STALL_S, cache_s=0)
    await watch.start()
    try:
        for _ in range(6):  # idle at the end for well over the stall time
            assert await watch.reasons({group: [topic]}) == []
            await asyncio.sleep(0.5)
        await produce(servers.kafka, topic, 1)
        assert await watch.reasons({group: [topic]}) == []  # lag, but only since now
        await asyncio.sleep(STALL_S + 0.1)
        [reason] = await watch.reasons({group: [topic]})
        assert f"{topic}[0] lag 1 at offset 5 since " in reason
    finally:
        await watch.stop()


async def test_an_unanswered_check_is_a_reason_not_an_error(servers: Servers) -> None:
    watch = ConsumerWatch(bootstrap=servers.kafka, stall_s=STALL_S)
    [reason] = await watch.reasons({"g": ["t"]})
    assert reason.startswith("consumer progress unknown: RuntimeError")
