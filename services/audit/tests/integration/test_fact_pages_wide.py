"""A batch that concerns many users is stored: FerretDB on PostgreSQL indexes a page's whole
user list as one btree row (at most 2,704 bytes), so one page for a catch-up batch of 1,000
events from UUID-keyed users failed every insert, and the ledger consumer blocked for good."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.mongo_facts import CONSENTS, TRANSFERS, MongoFactStore, create_fact_indexes
from audit.service.ingest import facts_of
from audit_events import granted, transfer
from audit_testing import at
from shared.events import make_event
from shared.events.envelope import EventData
from shared.kafka.consumer import Delivery, Origin

pytestmark = pytest.mark.integration


def delivery(data: EventData, offset: int) -> Delivery:
    event = make_event(data, source="/test")
    return Delivery(
        event=event, origin=Origin("t", 0, offset, event.key(), 0), raw=event.to_bytes()
    )


async def test_a_batch_of_a_thousand_events_of_500_users_is_stored_and_each_reads_their_own(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await create_fact_indexes(db)
    facts = MongoFactStore(db, grace_s=0)
    users = [str(uuid.uuid4()) for _ in range(500)]  # UUID-length keys, as auth issues them
    batch = [delivery(granted(u, "app_wide"), n) for n, u in enumerate(users)]
    batch += [delivery(transfer(u, "app_wide", when=at(1)), 500 + n) for n, u in enumerate(users)]
    await facts.add(facts_of(batch))
    await facts.add(facts_of(batch))  # a redelivery adds nothing
    assert await db[CONSENTS].count_documents({}) > 1  # split under the index's row limit
    for user in (users[0], users[250], users[-1]):
        timelines, _ = await facts.timelines(user_keys=[user], app_ids=[])
        assert [c.kind for c in timelines[(user, "app_wide")]] == ["granted"]
        assert len(await facts.transfers_of(user)) == 1
    pages = await db[TRANSFERS].count_documents({})
    assert sum(len(p.transfers) for p in await facts.due(now=at(-1), limit=10_000)) == 500
    assert pages > 1
