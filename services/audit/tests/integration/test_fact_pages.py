"""Facts are stored a page per batch: each reader sees one row per event, only its own."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.mongo_facts import CONSENTS, TRANSFERS, MongoFactStore, create_fact_indexes
from audit.service.facts import facts_of
from audit_events import granted, revoked, terms_updated, transfer
from audit_testing import at, new_user
from shared.events import make_event
from shared.events.envelope import EventData
from shared.kafka.consumer import Delivery, Origin

pytestmark = pytest.mark.integration


def delivery(data: EventData, offset: int) -> Delivery:
    event = make_event(data, source="/test")
    return Delivery(
        event=event, origin=Origin("t", 0, offset, event.key(), 0), raw=event.to_bytes()
    )


async def test_a_batch_is_a_page_per_kind_and_a_redelivery_adds_no_row(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await create_fact_indexes(db)
    facts = MongoFactStore(db, grace_s=0)
    alice, bob, app = new_user(), new_user(), "app_pages"
    batch = [
        delivery(granted(alice, app), 0),
        delivery(granted(bob, app), 1),
        delivery(transfer(alice, app, when=at(5)), 2),
        delivery(transfer(bob, app, when=at(4)), 3),
        delivery(revoked(alice, app), 4),
        delivery(transfer(alice, app, when=at(3)), 5),
        delivery(terms_updated(app, new="t2"), 6),
    ]
    await facts.add(facts_of(batch))
    assert await db[CONSENTS].count_documents({}) == 1
    assert await db[TRANSFERS].count_documents({}) == 1
    # the same batch again, then a redelivery cut differently: no row twice
    await facts.add(facts_of(batch))
    await facts.add(facts_of(batch[2:4]))
    assert await db[TRANSFERS].count_documents({}) == 2

    mine = await facts.transfers_of(alice)
    assert [t.event_id for t in mine] == [batch[2].event.id, batch[5].event.id]
    assert [t.event_id for t in await facts.transfers_of(bob)] == [batch[3].event.id]
    both, _ = await facts.timelines(user_keys=[alice, bob], app_ids=[])
    assert [c.kind for c in both[(alice, app)]] == ["granted", "revoked"]
    assert [c.kind for c in both[(bob, app)]] == ["granted"]
    assert (alice, "app_other") not in both
    consents, terms = await facts.timelines(user_keys=[bob], app_ids=[app])
    assert list(consents) == [(bob, app)]
    assert [t.terms_version for t in terms[app]] == ["t2"]
    # the batch's transfers are one pending page; the redelivery cut differently is another
    pages = await facts.due(now=at(-1), limit=100)
    assert sorted(len(p.transfers) for p in pages) == [2, 3]
    transfers = {t.event_id for p in pages for t in p.transfers}
    assert transfers == {d.event.id for d in batch if d.origin.offset in (2, 3, 5)}
    assert await facts.due(now=at(10), limit=100) == []  # not yet past the grace period
    # transfers the judge already has do not count toward the limit
    oldest = await facts.due(now=at(-1), limit=1)
    judged = {t.event_id for t in oldest[0].transfers}
    assert len(await facts.due(now=at(-1), limit=1, judged=judged)) == 2
    for page in pages:
        await facts.forget_pending(page.page_id)
    assert await facts.due(now=at(-1), limit=100) == []
