"""The durable publish raises within its deadline while the broker is down, and works after.

The test owns a second real Kafka broker (instance `outage`, its own ports and data), started and
stopped with the project's own script, so the shared broker of the other tests is not disturbed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.structs import RecordMetadata

from shared.events import make_event
from shared.events.consent import ConsentRevoked
from shared.kafka.broker import ensure_topics, make_broker
from shared.kafka.publisher import DurablePublisher, PublishFailed
from shared.settings import ServiceSettings
from shared.topics import DOMAIN_TOPICS

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
PORT = int(os.environ.get("OUTAGE_KAFKA_PORT", "19192"))
CONTROLLER_PORT = int(os.environ.get("OUTAGE_KAFKA_CONTROLLER_PORT", "19193"))
DEADLINE_S = 2.0


def kafka(action: str) -> None:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/servers.py"),
            "kafka",
            action,
            "--instance",
            "outage",
            "--port",
            str(PORT),
            "--controller-port",
            str(CONTROLLER_PORT),
        ],
        check=True,
        cwd=ROOT,
        timeout=180,
    )


@pytest.fixture
def outage_broker() -> Iterator[str]:
    kafka("up")
    yield f"127.0.0.1:{PORT}"
    kafka("down")


def revoked() -> ConsentRevoked:
    return ConsentRevoked(user_key="uk_outage_1", app_id="app_1", consent_id="c_1", version=2)


async def test_publish_fails_within_its_deadline_while_the_broker_is_down(
    outage_broker: str,
) -> None:
    settings = ServiceSettings(
        environment="development",
        service_name="outage",
        kafka_bootstrap_servers=outage_broker,
        publish_deadline_s=DEADLINE_S,
    )
    await ensure_topics(bootstrap_servers=outage_broker, topics=DOMAIN_TOPICS)
    broker = make_broker(settings)
    publisher = DurablePublisher(broker=broker, deadline_s=DEADLINE_S)
    await broker.start()
    try:
        assert (await publisher.publish(make_event(revoked(), source="/t"))).offset >= 0

        await asyncio.to_thread(kafka, "down")
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(PublishFailed):
                await publisher.publish(make_event(revoked(), source="/t"))
            assert time.monotonic() - started < DEADLINE_S + 1.0

        await asyncio.to_thread(kafka, "up")
        meta = await _first_success(publisher, within_s=60)
        assert meta.offset >= 1
    finally:
        await broker.stop()


async def _first_success(publisher: DurablePublisher, *, within_s: float) -> RecordMetadata:
    """After a restart the client reconnects on its own; publishes succeed again."""
    async with asyncio.timeout(within_s):
        while True:
            try:
                return await publisher.publish(make_event(revoked(), source="/t"))
            except PublishFailed:
                continue
