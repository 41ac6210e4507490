"""The deletion webhook against a real local HTTP receiver, on the real broker and database."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from standardwebhooks.webhooks import Webhook

from deletions_testing import (
    HANG,
    FakeTargets,
    Receiver,
    attempts,
    consent_topic_ends,
    deletion_settings,
    events_of,
    new_ids,
    running,
    wait_for_outcome,
)
from kits_testing import Servers

pytestmark = pytest.mark.integration
Db = AsyncDatabase[dict[str, Any]]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """Fails with 500, then gives no answer in time, then 503, then takes it (204)."""
    server = Receiver(script=[500, HANG, 503, 204], hang_s=3.0)
    await server.start()
    yield server
    await server.stop()


def both_events(events: list[dict[str, Any]]) -> bool:
    """The requested and the outcome event are both there."""
    types = {e["type"] for e in events}
    return {"consent.deletion_requested.v1", "consent.deletion_outcome_recorded.v1"} <= types


async def test_retries_with_growing_gaps_until_a_2xx_signed_and_recorded(
    servers: Servers, db: Db, receiver: Receiver
) -> None:
    ids = new_ids()
    targets = FakeTargets({ids["app_id"]: receiver.url})
    since = await consent_topic_ends(servers)
    settings = deletion_settings(servers, database=db.name, deletion_backoff_s=0.5)
    async with running(settings, targets) as container:
        rid = await container.deletions.request(**ids)
        outcome = await wait_for_outcome(db, rid)
        secret = container.deletions.secret(ids["app_id"])

    assert outcome["outcome"] == "confirmed"
    assert outcome["detail"] == "HTTP 204"
    calls = receiver.calls_for(rid)
    assert len(calls) == 4
    for call in calls:
        payload = Webhook(secret).verify(call.body, call.headers)
        assert payload["data"]["subject"] == ids["pairwise_subject"]
        assert payload["data"]["request_id"] == rid
        assert payload["data"]["consent_id"] == ids["consent_id"]
        assert payload["data"]["reason"] == "user"
        assert ids["user_key"] not in call.body.decode() + json.dumps(call.headers)
        assert "secret-answer" not in json.dumps(outcome, default=str)
    recorded = await attempts(db, rid)
    assert [a["status_code"] for a in recorded] == [500, None, 503, 204]
    assert recorded[1]["error"].startswith("no answer within")
    gaps = [b["started_at"] - a["finished_at"] for a, b in itertools.pairwise(recorded)]
    assert gaps == sorted(gaps)
    # base 0.5 s doubling, less at most 20 % jitter (the ranges do not overlap)
    assert [g >= m for g, m in zip(gaps, (0.4, 0.8, 1.6), strict=True)] == [True] * 3

    events = await events_of(servers, since=since, request_id=rid, until=both_events)
    requested = [e for e in events if e["type"] == "consent.deletion_requested.v1"]
    outcomes = [e for e in events if e["type"] == "consent.deletion_outcome_recorded.v1"]
    assert (len(requested), len(outcomes)) == (1, 1)
    assert requested[0]["subject"] == ids["user_key"]
    assert requested[0]["data"]["pairwise_subject"] == ids["pairwise_subject"]
    assert outcomes[0]["data"]["outcome"] == "confirmed"


@pytest.mark.parametrize("stop_when", ["mid_attempt", "in_backoff"])
async def test_a_restart_in_the_middle_loses_nothing_and_concludes_once(
    servers: Servers, db: Db, stop_when: str, wait_until: Any
) -> None:
    script: list[int | str] = [HANG, 500, 200] if stop_when == "mid_attempt" else [500, 500, 200]
    receiver = Receiver(script=script, hang_s=3.0)
    await receiver.start()
    ids = new_ids()
    targets = FakeTargets({ids["app_id"]: receiver.url})
    since = await consent_topic_ends(servers)
    settings = deletion_settings(servers, database=db.name, deletion_backoff_s=1.0)
    try:
        async with running(settings, targets) as first:
            rid = await first.deletions.request(**ids)
            if stop_when == "mid_attempt":
                await wait_until(lambda: _true(len(receiver.calls_for(rid)) == 1))
            else:
                await wait_until(lambda: _has_attempts(db, rid, 1))
        assert await db["deletion_outcomes"].find_one({"_id": rid}) is None
        assert await db["deletion_pending"].find_one({"_id": rid}) is not None
        async with running(settings, targets):
            outcome = await wait_for_outcome(db, rid)
    finally:
        await receiver.stop()

    assert outcome["outcome"] == "confirmed"
    recorded = await attempts(db, rid)
    assert [a["attempt"] for a in recorded] == [1, 2, 3]
    if stop_when == "mid_attempt":
        assert recorded[0]["error"].startswith("lost:")
    assert [a["status_code"] for a in recorded][1:] == [500, 200]
    assert len(receiver.calls_for(rid)) == 3

    events = await events_of(servers, since=since, request_id=rid, until=both_events)
    assert sorted(e["type"] for e in events) == [
        "consent.deletion_outcome_recorded.v1",
        "consent.deletion_requested.v1",
    ]


async def _true(value: bool) -> bool:
    return value


async def _has_attempts(db: Db, rid: str, count: int) -> bool:
    return len(await attempts(db, rid)) >= count
