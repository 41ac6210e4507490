"""Redelivery after a crash, and a second writer on the same shard, never break the ledger."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.mongo_facts import MongoFactStore, create_fact_indexes
from audit.adapters.mongo_ledger import MongoLedgerStore, create_ledger_indexes
from audit.service.ingest import LedgerIngest
from audit_events import logged_in
from audit_testing import AuditHarness, audit_shard, new_user
from kits_testing import read_topic
from shared.events import make_event
from shared.kafka.consumer import Origin, Received
from shared.topics import CONSENT_EVENTS, dead_letter_topic

pytestmark = pytest.mark.integration
SHARD = "auth.events/2"


def deliveries(start: int, stop: int) -> list[Received]:
    out = []
    for offset in range(start, stop):
        event = make_event(logged_in(f"uk_redeliver_{offset:04d}"), source="/auth")
        out.append(
            Received(
                origin=Origin("auth.events", 2, offset, event.key(), 0),
                raw=event.to_bytes(),
                event=event,
                fault=None,
            )
        )
    return out


async def fresh_ingest(db: AsyncDatabase[dict[str, Any]]) -> LedgerIngest:
    """A new process: nothing in memory, everything from the store."""
    return LedgerIngest(ledger=MongoLedgerStore(db), facts=MongoFactStore(db, grace_s=0))


async def test_a_batch_stored_but_not_committed_is_not_stored_twice(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await create_ledger_indexes(db)
    await create_fact_indexes(db)
    first = deliveries(0, 50)
    await (await fresh_ingest(db))(first)
    # The instance died before committing: the next owner gets the same records, and more.
    await (await fresh_ingest(db))([*first[20:], *deliveries(50, 60)])
    stored = [e async for e in MongoLedgerStore(db).scan(SHARD)]
    assert [e.index for e in stored] == list(range(60))
    assert [e.offset for e in stored] == list(range(60))
    assert audit_shard(SHARD, stored, []) == []


async def test_two_writers_on_one_shard_leave_one_consistent_tree(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    """After a rebalance the stale owner may still write what the new owner reads again."""
    await create_ledger_indexes(db)
    await create_fact_indexes(db)
    old, new = await fresh_ingest(db), await fresh_ingest(db)
    await old(deliveries(0, 10))
    await new.load(SHARD)
    same = deliveries(10, 20)
    results = await asyncio.gather(
        old(same), new([*same, *deliveries(20, 25)]), return_exceptions=True
    )
    failed = [w for w, r in zip((old, new), results, strict=True) if isinstance(r, Exception)]
    assert len(failed) <= 1
    for writer in failed:  # the pipeline retries: reload from the store, skip what is there
        await writer([*same, *deliveries(20, 25)])
    stored = [e async for e in MongoLedgerStore(db).scan(SHARD)]
    assert [e.index for e in stored] == list(range(25))
    assert [e.offset for e in stored] == list(range(25))
    assert audit_shard(SHARD, stored, []) == []


async def test_a_malformed_event_is_dead_lettered_and_the_ledger_keeps_flowing(
    audit: AuditHarness,
    producers: dict[str, Any],
    wait_until: Callable[..., Awaitable[None]],
    servers: Any,
) -> None:
    user = new_user()
    marker = make_event(logged_in(user), source="/auth")
    garbage = b'{"specversion": "1.0", "type": "auth.user_logged_in.v1", "id": 7}'
    await producers["consent"].publish_raw(
        topic=CONSENT_EVENTS, value=garbage, key=user.encode(), headers={}
    )
    await producers["auth"].publish(marker)
    await wait_until(lambda: audit.entry_stored(marker.id), timeout_s=30)
    group = audit.container.settings.ledger_group
    dead = await read_topic(
        servers.kafka,
        dead_letter_topic(group).name,
        count=1,
        until=lambda rs: any(r.key == user.encode() for r in rs),
    )
    [record] = [r for r in dead if r.key == user.encode()]
    assert record.value == garbage
    headers = {k: v.decode() for k, v in record.headers}
    assert headers["dlq-origin-topic"] == CONSENT_EVENTS
    assert headers["dlq-error-type"] == "InvalidEvent"
