"""Every upload, rejection and share-out of sound reaches the audit ledger (both real, on the
shared broker's domain topics), and a share-out's recorded digest is the SHA-256 of the bytes
the client received."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord
from pymongo import AsyncMongoClient

from audit.main import create_app as create_audit
from audit_testing import AuditHarness, audit_settings
from kits_testing import Servers, eventually, read_since, start_group_at_end, topic_ends
from shared.kafka.broker import ensure_topics
from shared.topics import DOMAIN_TOPICS, SOUND_EVENTS, TRANSFER_EVENTS
from sound_fixtures import sound  # noqa: F401  # the fixture
from sound_testing import Harness, audio

pytestmark = pytest.mark.integration


@pytest.fixture
async def audit(
    servers: Servers,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    sound: Harness,  # noqa: F811
) -> AsyncIterator[AuditHarness]:
    """A ledger of the domain topics, with sound's two in place of this sound's own (its
    fixture publishes to topics of its own, as a deployment that renames them would)."""
    own = sound.container.settings
    renamed = {SOUND_EVENTS: own.events_topic, TRANSFER_EVENTS: own.transfers_topic}
    topics = [renamed.get(spec.name, spec.name) for spec in DOMAIN_TOPICS]
    settings = audit_settings(servers, ledger_topics=",".join(topics))
    await ensure_topics(bootstrap_servers=servers.kafka, topics=list(DOMAIN_TOPICS))
    await start_group_at_end(
        servers.kafka, group_id=settings.ledger_group, topics=list(settings.ledger_topic_names)
    )
    app = create_audit(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit") as c,
    ):
        yield AuditHarness(container=app.state.container, http=c)
    await mongo_client.drop_database(settings.database_name)


async def test_uploads_rejections_and_share_outs_reach_the_ledger(
    sound: Harness,  # noqa: F811
    audit: AuditHarness,
    servers: Servers,
) -> None:
    own = sound.container.settings
    since = {
        topic: await topic_ends(servers.kafka, topic)
        for topic in (own.events_topic, own.transfers_topic)
    }
    up, grant = sound.user()
    ok = await sound.upload(up, audio("flac", seconds=0.5), media="audio/flac")
    bad = await sound.upload(up, audio("mp3", seconds=0.5), media="audio/wav")
    assert (ok["state"], bad["state"]) == ("ingested", "rejected")
    share, _ = sound.user(scopes=("sound.share",), app=grant.client_id, user=grant.user_key)
    fetched = await sound.http.get(f"/v1/sounds/{ok['sound_id']}", headers=share)
    assert fetched.status_code == 200
    mine = grant.user_key.encode()
    events: list[dict[str, Any]] = []
    for topic, want in ((own.events_topic, 4), (own.transfers_topic, 1)):

        def enough(records: list[ConsumerRecord[bytes, bytes]], want: int = want) -> bool:
            return sum(1 for r in records if r.key == mine) >= want

        found = await read_since(servers.kafka, topic, since=since[topic], until=enough)
        events += [json.loads(r.value) for r in found if r.key == mine]
    types = sorted(e["type"] for e in events)
    assert types == [
        "sound.ingested.v1",
        "sound.rejected.v1",
        "sound.upload_started.v1",
        "sound.upload_started.v1",
        "transfer.recorded.v1",
    ]
    transfer = next(e for e in events if e["type"] == "transfer.recorded.v1")
    assert transfer["data"]["digest_sha256"] == hashlib.sha256(fetched.content).hexdigest()
    for event in events:

        async def stored(event_id: str = event["id"]) -> bool:
            return await audit.entry_stored(event_id)

        await eventually(stored, timeout_s=60)
