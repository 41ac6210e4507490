"""Deletion requests: once per consent version, one sender per attempt, every kind of outcome."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from consent.service.deletion_dispatch import NO_WEBHOOK
from consent.service.deletion_ports import Pending
from deletions_testing import (
    SCREEN_IN_PRODUCTION,
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
from shared.events import CloudEvent
from shared.kafka.publisher import PublishFailed

pytestmark = pytest.mark.integration
Db = AsyncDatabase[dict[str, Any]]


def outcome_seen(events: list[dict[str, Any]]) -> bool:
    """The outcome event of the request is there."""
    return any(e["type"] == "consent.deletion_outcome_recorded.v1" for e in events)


@contextlib.asynccontextmanager
async def receiving(script: list[int | str]) -> Any:
    """A started receiver, stopped on exit."""
    server = Receiver(script=script)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_a_redelivered_revocation_makes_no_second_request(servers: Servers, db: Db) -> None:
    ids = new_ids()
    since = await consent_topic_ends(servers)
    async with receiving([200]) as receiver:
        targets = FakeTargets({ids["app_id"]: receiver.url})
        async with running(deletion_settings(servers, database=db.name), targets) as container:
            first = await asyncio.gather(*(container.deletions.request(**ids) for _ in range(8)))
            await wait_for_outcome(db, first[0])
            again = await container.deletions.request(**ids)
            # a dispatch round that read the pending set just before the request concluded
            stale = await container.deletions.store.get_request(first[0])
            assert stale is not None
            await container.deletions.dispatcher.step(Pending(request=stale, announced=True))
            newer = await container.deletions.request(**{**ids, "consent_version": 3})
            await wait_for_outcome(db, newer)

    rid = first[0]
    assert set(first) == {rid, again}
    assert newer != rid
    assert await db["deletion_requests"].count_documents({"consent_id": ids["consent_id"]}) == 2
    assert len(receiver.calls_for(rid)) == 1
    events = await events_of(servers, since=since, request_id=rid, until=outcome_seen)
    assert Counter(e["type"] for e in events) == {
        "consent.deletion_requested.v1": 1,
        "consent.deletion_outcome_recorded.v1": 1,
    }


async def test_two_instances_on_one_database_never_send_the_same_attempt(
    servers: Servers, db: Db
) -> None:
    # generous timeout: this test is about claims, not timeouts, on a shared 2-core machine
    settings = deletion_settings(
        servers,
        database=db.name,
        deletion_backoff_s=0.1,
        deletion_timeout_s=3.0,
        deletion_claim_lease_s=5.0,
    )
    requests = [new_ids() for _ in range(6)]
    async with receiving([500, 500, 503, 200]) as receiver:
        targets = FakeTargets({ids["app_id"]: receiver.url for ids in requests})
        async with running(settings, targets) as one, running(settings, targets) as two:
            rids = await asyncio.gather(
                *(
                    (one if i % 2 else two).deletions.request(**ids)
                    for i, ids in enumerate(requests)
                )
            )
            outcomes = await asyncio.gather(*(wait_for_outcome(db, rid) for rid in rids))

    assert {o["outcome"] for o in outcomes} == {"confirmed"}
    owners = set()
    for rid in rids:
        claims = [c async for c in db["deletion_claims"].find({"request_id": rid})]
        assert sorted(c["attempt"] for c in claims) == [1, 2, 3, 4]
        assert len(receiver.calls_for(rid)) == 4  # one POST per claimed attempt
        assert [a["status_code"] for a in await attempts(db, rid)] == [500, 500, 503, 200]
        owners |= {c["owner"] for c in claims}
    assert len(owners) == 2  # both instances took part


async def test_a_4xx_is_a_refusal_recorded_at_once(servers: Servers, db: Db) -> None:
    ids = new_ids()
    since = await consent_topic_ends(servers)
    async with receiving([410]) as receiver:
        targets = FakeTargets({ids["app_id"]: receiver.url})
        async with running(deletion_settings(servers, database=db.name), targets) as container:
            rid = await container.deletions.request(**ids)
            outcome = await wait_for_outcome(db, rid)
    assert (outcome["outcome"], outcome["detail"]) == ("refused", "HTTP 410")
    assert len(receiver.calls_for(rid)) == 1
    events = await events_of(servers, since=since, request_id=rid, until=outcome_seen)
    assert [e["data"]["outcome"] for e in events if "outcome" in e["data"]] == ["refused"]


async def test_a_spent_budget_is_no_answer_and_a_redirect_is_not_followed(
    servers: Servers, db: Db
) -> None:
    ids = new_ids()
    since = await consent_topic_ends(servers)
    settings = deletion_settings(
        servers, database=db.name, deletion_retry_budget_s=2.0, deletion_backoff_s=0.2
    )
    async with receiving([302]) as receiver:
        targets = FakeTargets({ids["app_id"]: receiver.url})
        async with running(settings, targets) as container:
            rid = await container.deletions.request(**ids)
            outcome = await wait_for_outcome(db, rid)
    request = await db["deletion_requests"].find_one({"_id": rid})
    assert request is not None
    recorded = await attempts(db, rid)
    assert outcome["outcome"] == "no_answer"
    assert outcome["detail"] == f"retry budget spent after {len(recorded)} attempts; last: HTTP 302"
    assert len(recorded) >= 3
    assert all(a["started_at"] < request["deadline"] for a in recorded)
    assert {c.path for c in receiver.calls} == {"/hooks/deletion"}  # never /elsewhere
    events = await events_of(servers, since=since, request_id=rid, until=outcome_seen)
    requested = next(e for e in events if e["type"] == "consent.deletion_requested.v1")
    assert requested["data"]["deadline"].startswith(_iso_second(request["deadline"]))


async def test_an_app_without_a_webhook_is_no_answer_at_once(servers: Servers, db: Db) -> None:
    ids = new_ids()
    since = await consent_topic_ends(servers)
    async with running(deletion_settings(servers, database=db.name), FakeTargets()) as container:
        rid = await container.deletions.request(**ids)
        outcome = await wait_for_outcome(db, rid)
    assert (outcome["outcome"], outcome["detail"]) == ("no_answer", NO_WEBHOOK)
    events = await events_of(servers, since=since, request_id=rid, until=outcome_seen)
    assert [e["data"].get("detail") for e in events if "outcome" in e["data"]] == [NO_WEBHOOK]


async def test_outside_development_an_http_webhook_is_refused_unsent(
    servers: Servers, db: Db
) -> None:
    ids = new_ids()
    settings = deletion_settings(
        servers,
        database=db.name,
        environment="production",
        **SCREEN_IN_PRODUCTION,
    )
    async with receiving([200]) as receiver:
        targets = FakeTargets({ids["app_id"]: receiver.url})
        async with running(settings, targets) as container:
            rid = await container.deletions.request(**ids)
            outcome = await wait_for_outcome(db, rid)
    assert outcome["outcome"] == "no_answer"
    assert outcome["detail"] == "deletion webhook URL must be an absolute https only URL"
    assert receiver.calls == []


def _iso_second(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")[:19]


class FlakyPublisher:
    """The `EventPublisher` port: refuses the first publish (Kafka away), then passes through."""

    def __init__(self, real: Any, *, refuse_type: str = "") -> None:
        self.real, self.refused, self.refuse_type = real, 0, refuse_type
        self.passed_at: list[float] = []

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> Any:
        """Raise `PublishFailed` once (for the first event of `refuse_type`), then publish."""
        if not self.refused and event.type.startswith(self.refuse_type):
            self.refused += 1
            raise PublishFailed("broker away (test)")
        result = await self.real.publish(event, traceparent=traceparent)
        self.passed_at.append(time.time())
        return result


async def test_a_request_whose_event_failed_is_announced_by_the_loop_before_it_is_sent(
    servers: Servers, db: Db
) -> None:
    ids = new_ids()
    since = await consent_topic_ends(servers)
    settings = deletion_settings(servers, database=db.name, publish_deadline_s=0.5)
    async with receiving([200]) as receiver:
        targets = FakeTargets({ids["app_id"]: receiver.url})
        async with running(settings, targets) as container:
            flaky = FlakyPublisher(container.deletions.dispatcher.publisher)
            container.deletions.dispatcher.publisher = flaky
            rid = await container.deletions.request(**ids)
            assert flaky.refused == 1
            pending = await db["deletion_pending"].find_one({"_id": rid})
            assert pending is not None
            assert pending["announced"] is False
            await wait_for_outcome(db, rid)
    events = await events_of(servers, since=since, request_id=rid, until=outcome_seen)
    assert [e["type"] for e in events] == [
        "consent.deletion_requested.v1",
        "consent.deletion_outcome_recorded.v1",
    ]
    assert receiver.calls_for(rid)[0].at >= flaky.passed_at[0]  # announced, then sent


@pytest.mark.parametrize(
    "bad",
    [{"pairwise_subject": ""}, {"app_id": "has space"}, {"reason": "DROP TABLE"}],
    ids=["no-subject", "bad-app-id", "odd-reason"],
)
async def test_a_malformed_request_is_refused_before_anything_is_written(
    servers: Servers, db: Db, bad: dict[str, str]
) -> None:
    async with running(deletion_settings(servers, database=db.name), FakeTargets()) as container:
        with pytest.raises(ValueError, match=r"\S"):
            await container.deletions.request(**{**new_ids(), **bad})
    assert await db["deletion_requests"].count_documents({}) == 0
    assert await db["deletion_pending"].count_documents({}) == 0


async def test_an_outcome_kafka_did_not_take_is_published_once_later(
    servers: Servers, db: Db
) -> None:
    ids = new_ids()
    since = await consent_topic_ends(servers)
    async with receiving([200]) as receiver:
        targets = FakeTargets({ids["app_id"]: receiver.url})
        async with running(deletion_settings(servers, database=db.name), targets) as container:
            flaky = FlakyPublisher(
                container.deletions.dispatcher.publisher,
                refuse_type="consent.deletion_outcome_recorded",
            )
            container.deletions.dispatcher.publisher = flaky
            rid = await container.deletions.request(**ids)
            outcome = await wait_for_outcome(db, rid)
    assert flaky.refused == 1
    assert outcome["outcome"] == "confirmed"
    events = await events_of(servers, since=since, request_id=rid, until=outcome_seen)
    assert Counter(e["type"] for e in events) == {
        "consent.deletion_requested.v1": 1,
        "consent.deletion_outcome_recorded.v1": 1,
    }
    assert len(receiver.calls_for(rid)) == 1
