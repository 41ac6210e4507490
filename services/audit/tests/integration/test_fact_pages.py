"""Facts are stored per user, keyed by `_id` only: many long user keys in one batch, exact
times, redeliveries, two writers, the judgement claim, and batches of production shape."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.fact_chains import bucket_name
from audit.adapters.mongo_facts import MongoFactStore, create_fact_indexes
from audit.adapters.mongo_ledger import MongoLedgerStore, create_ledger_indexes
from audit.domain.verdict import Verdict
from audit.service.facts import facts_of
from audit.service.ingest import LedgerIngest
from audit.service.judge import Judge
from audit.service.ports import Judgement, VerdictState
from audit.service.replay import DiscardingPublisher
from audit_events import granted, revoked, terms_updated, transfer
from audit_testing import at
from shared.events import make_event
from shared.events.envelope import EventData
from shared.kafka.consumer import Delivery, Origin, Received

pytestmark = pytest.mark.integration


def delivery(data: EventData, offset: int, **envelope: Any) -> Delivery:
    event = make_event(data, source="/test").model_copy(update=envelope)
    return Delivery(
        event=event, origin=Origin("t", 0, offset, event.key(), 0), raw=event.to_bytes()
    )


async def test_a_batch_of_300_uuid_users_is_stored_and_each_reads_only_their_own(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await create_fact_indexes(db)
    facts = MongoFactStore(db, grace_s=0)
    users, app = [str(uuid.uuid4()) for _ in range(300)], "app_pages"
    t0 = at(30)
    batch = [delivery(granted(u, app), i, time=t0) for i, u in enumerate(users)]
    batch += [
        delivery(transfer(u, app, when=t0 + timedelta(microseconds=1)), 300 + i)
        for i, u in enumerate(users)
    ]
    batch.append(delivery(revoked(users[0], app), 600, time=t0 + timedelta(microseconds=1)))
    batch.append(delivery(terms_updated(app, new="t2"), 601, time=t0))
    await facts.add(facts_of(batch))  # the old layout failed here: an index row per page
    await facts.add(facts_of(batch))  # redelivered whole, then cut differently
    await facts.add(facts_of(batch[290:310]))

    alice = await facts.user(users[0])
    assert [t.event_id for t in alice.transfers] == [batch[300].event.id]
    assert [(c.kind, c.at) for c in alice.consents[app]] == [
        ("granted", t0),
        ("revoked", t0 + timedelta(microseconds=1)),  # microseconds survive storage
    ]
    assert alice.verdicts == {}
    assert not alice.judged
    bob = await facts.user(users[1])
    assert [c.kind for c in bob.consents[app]] == ["granted"]
    assert [t.data["user_key"] for t in bob.transfers] == [users[1]]
    assert [t.terms_version for t in (await facts.terms([app]))[app]] == ["t2"]
    pages = await facts.due(now=at(-1), limit=10_000)
    assert {w.user_key for p in pages for w in p.users} == set(users)
    assert all(len(p.users) + len(p.terms) <= 200 for p in pages)
    assert await facts.due(now=at(10), limit=100) == []
    for page in pages:
        await facts.forget_pending(page.page_id)
    assert await facts.due(now=at(-1), limit=100) == []


async def test_two_writers_of_one_chain_lose_nothing_and_a_judgement_claims_the_end(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    one, two = MongoFactStore(db, grace_s=0), MongoFactStore(db, grace_s=0)
    user, app = str(uuid.uuid4()), "app_claims"
    sent = [delivery(transfer(user, app, when=at(60 - i)), i) for i in range(20)]

    async def write(store: MongoFactStore, mine: list[Delivery]) -> None:
        for d in mine:
            await store.add(facts_of([d]))

    await asyncio.gather(write(one, sent[::2]), write(two, sent[1::2]))
    state = await one.user(user)
    assert {t.event_id for t in state.transfers} == {d.event.id for d in sent}

    verdicts = {t.event_id: VerdictState(Verdict.violation("no_consent")) for t in state.transfers}
    claims = await asyncio.gather(
        *(s.save_judgements([(state, Judgement(verdicts, [b"x"]))]) for s in (one, two, one))
    )
    assert sorted(c for [c] in claims) == [False, False, True]  # one claim of that place
    judged = await two.user(user)
    assert judged.judged
    assert judged.unsent == [b"x"]
    assert judged.verdicts == verdicts
    await two.mark_sent([(user, state.end)])
    assert (await one.user(user)).unsent == []

    await one.add(facts_of([delivery(granted(user, app), 99)]))
    later = await two.user(user)
    assert not later.judged
    assert later.verdicts == verdicts
    assert await one.save_judgements([(judged, Judgement(verdicts, []))]) == [False]  # stale
    assert await one.save_judgements([(later, Judgement(verdicts, []))]) == [True]


async def test_batches_of_a_thousand_events_naming_a_thousand_uuid_users_ingest_and_judge(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await create_ledger_indexes(db)
    await create_fact_indexes(db)
    facts = MongoFactStore(db, grace_s=0)
    ingest = LedgerIngest(ledger=MongoLedgerStore(db), facts=facts)
    users, app = [str(uuid.uuid4()) for _ in range(1000)], "app_shaped"
    events = [granted(u, app) for u in users] + [transfer(u, app, when=at(1)) for u in users]
    records = [delivery(data, offset, time=at(60)) for offset, data in enumerate(events)]
    for start in (0, 1000):  # each batch names 1,000 distinct 36-character user keys
        await ingest(
            [Received(d.origin, d.raw, d.event, None) for d in records[start : start + 1000]]
        )
    judge = Judge(facts=facts, publisher=DiscardingPublisher())
    while await judge.run_once(limit=5000):
        pass
    for user in users[::100]:
        state = await facts.user(user)
        assert [s.verdict.covered for s in state.verdicts.values()] == [True]


async def test_a_page_whose_facts_cannot_be_read_yet_waits_for_them(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    facts = MongoFactStore(db, grace_s=0)
    user, app = str(uuid.uuid4()), "app_wait"
    batch = facts_of([delivery(transfer(user, app, when=at(5)), 0)])
    await facts.add(batch)
    chain = f"u:{user}"
    # the page is written with the facts, not after them: as if the facts were not stored yet
    await db[bucket_name(chain)].delete_one({"_id": f"{chain}:0"})
    judge = Judge(facts=MongoFactStore(db, grace_s=0), publisher=DiscardingPublisher())
    await judge.run_once()
    assert len(await facts.due(now=at(-1), limit=10)) == 1  # kept, not judged away
    assert (await MongoFactStore(db, grace_s=0).user(user)).end == 0  # no empty judgement
    await MongoFactStore(db, grace_s=0).add(batch)  # the retried batch stores them
    await judge.run_once()
    assert await facts.due(now=at(-1), limit=10) == []
    assert list((await facts.user(user)).verdicts) == [batch.transfers[0].event_id]
