"""A fetch with the broker stopped answers 503 and sends no bytes; with it back, the bytes flow.

Sound runs with its real container (the real DurablePublisher, deadline 2 s) on a second real
Kafka of this test's own (instance `sound-outage`, its own ports and data), started and stopped
with the project's script as shared/tests/integration/test_publish_outage.py does, and on the
shared FerretDB; the shared broker of the other tests is never touched. Auth and consent are
sound's port fakes. The broker is started again before the app's lifespan exits (whatever the
outcome), so shutdown never waits on a broker that is gone; the instance is stopped at the end.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from kits_testing import Servers, kafka_instance, read_since, topic_ends
from shared.topics import TRANSFER_EVENTS
from sound.main import create_app
from sound_testing import FakeConsent, FakeTokens, Harness, audio, sound_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
ROOT = Path(__file__).resolve().parents[4]
OUTAGE = ("sound-outage", int(os.environ.get("SOUND_OUTAGE_PORT", "19492")))
DEADLINE_S = 2.0  # sound's publish deadline in this test


def outage_kafka(action: str) -> None:
    kafka_instance(action, name=OUTAGE[0], port=OUTAGE[1])


@pytest.fixture
def outage_broker() -> Iterator[str]:
    outage_kafka("up")
    try:
        yield f"127.0.0.1:{OUTAGE[1]}"
    finally:
        outage_kafka("down")


async def test_with_the_broker_stopped_a_fetch_is_a_503_envelope_and_sends_no_bytes(
    servers: Servers, outage_broker: str, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> None:
    settings = sound_settings(
        servers, kafka_bootstrap_servers=outage_broker, publish_deadline_s=DEADLINE_S
    )
    tokens, consent = FakeTokens(), FakeConsent()
    app = create_app(settings, tokens=tokens, consent=consent)
    data = audio("wav", seconds=1.0)
    try:
        async with (
            asyncio.timeout(200),
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://sound", timeout=30
            ) as http,
        ):
            sound = Harness(
                container=app.state.container, http=http, tokens=tokens, consent=consent
            )
            up, grant = sound.user()
            assert (await sound.upload(up, data, media="audio/wav"))["state"] == "ingested"
            share, _ = sound.user(scopes=("sound.share",), app=grant.client_id, user=grant.user_key)
            listed = (await http.get("/v1/sounds", headers=share)).json()["data"]
            sound_id = listed["sounds"][0]["sound_id"]
            assert (await http.get(f"/v1/sounds/{sound_id}", headers=share)).content == data

            await asyncio.to_thread(outage_kafka, "down")
            try:
                for _ in range(2):
                    started = time.monotonic()
                    down = await http.get(f"/v1/sounds/{sound_id}", headers=share)
                    took = time.monotonic() - started
                    assert down.status_code == 503, down.text
                    assert took < DEADLINE_S + 1.0, took
                    assert down.headers["content-type"].startswith("application/json")
                    assert "x-content-sha256" not in down.headers
                    error = down.json()["error"]
                    assert error["code"] == "service_unavailable"
                    assert error["log_id"]
                    assert b"RIFF" not in down.content
                    assert data[44:1044] not in down.content  # none of the audio's samples
                    assert len(down.content) < 500
            finally:
                # Back before the lifespan exits: stopping the producer waits on the broker.
                await asyncio.to_thread(outage_kafka, "up")

            since = await topic_ends(outage_broker, TRANSFER_EVENTS)
            async with asyncio.timeout(90):
                while True:
                    back = await http.get(f"/v1/sounds/{sound_id}", headers=share)
                    if back.status_code == 200:
                        break
                    assert back.status_code == 503, back.text
                    await asyncio.sleep(0.2)
            assert back.content == data
            sent = hashlib.sha256(back.content).hexdigest()
            mine = grant.user_key.encode()

            def recorded(records: list[Any]) -> bool:
                return any(
                    r.key == mine and json.loads(r.value)["data"]["digest_sha256"] == sent
                    for r in records
                )

            found = await read_since(outage_broker, TRANSFER_EVENTS, since=since, until=recorded)
            assert recorded(found)
    finally:
        await mongo_client.drop_database(settings.database_name)
