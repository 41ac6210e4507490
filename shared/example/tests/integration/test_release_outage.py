"""Record first, else 503: with the broker down a release answers 503 in time, releasing nothing.

The test owns a Kafka broker of its own (instance `example-outage`, its own ports and data),
started and stopped with the project's script, so the shared broker is not disturbed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from example_testing import example_settings, new_key
from kits_example.main import create_app
from kits_testing import Servers

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[4]
PORT = int(os.environ.get("EXAMPLE_OUTAGE_KAFKA_PORT", "19294"))
CONTROLLER_PORT = int(os.environ.get("EXAMPLE_OUTAGE_KAFKA_CONTROLLER_PORT", "19295"))
DEADLINE_S = 2.0


def kafka(action: str) -> None:
    """`scripts/servers.py kafka up|down` for this test's own broker."""
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/servers.py"),
            *("kafka", action, "--instance", "example-outage"),
            *("--port", str(PORT), "--controller-port", str(CONTROLLER_PORT)),
        ],
        check=True,
        cwd=ROOT,
        timeout=180,
    )


@pytest.fixture
def own_broker() -> Iterator[str]:
    kafka("up")
    yield f"127.0.0.1:{PORT}"
    kafka("down")


@pytest.fixture
async def http(
    own_broker: str, servers: Servers, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[httpx.AsyncClient]:
    """The example on its own broker (and the shared database), short publish deadline."""
    settings = example_settings(
        servers, kafka_bootstrap_servers=own_broker, publish_deadline_s=DEADLINE_S
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ex") as client,
    ):
        yield client
    await mongo_client.drop_database(settings.database_name)


def release_body() -> dict[str, Any]:
    return {
        "app_id": "app_example",
        "pairwise_subject": new_key("pw"),
        "consent_id": new_key("c"),
        "consent_version": 1,
        "terms_version": "2026-01",
        "scopes": ["user.info.basic"],
        "purpose": "show the user's name in the app",
        "request_id": new_key("req"),
    }


async def test_a_release_while_the_broker_is_down_is_a_503_with_nothing_released(
    http: httpx.AsyncClient,
) -> None:
    user = new_key("uk")
    assert (await http.put(f"/profiles/{user}", json={"username": "ada_l"})).status_code == 204
    url = f"/profiles/{user}/releases"
    assert (await http.post(url, json=release_body())).status_code == 200

    await asyncio.to_thread(kafka, "down")
    started = time.monotonic()
    refused = await http.post(url, json=release_body())

    assert time.monotonic() - started < DEADLINE_S + 1.5
    assert refused.status_code == 503
    assert "nothing was released" in refused.json()["detail"]
    assert "ada_l" not in refused.text
    assert "transfer-id" not in refused.headers
    assert refused.headers["retry-after"] == "5"

    await asyncio.to_thread(kafka, "up")
    async with asyncio.timeout(60):  # the client reconnects by itself; releases work again
        while (await http.post(url, json=release_body())).status_code != 200:
            pass
