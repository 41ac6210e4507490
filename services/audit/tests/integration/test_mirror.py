"""The ledger mirrors its partitions: every record is one entry at its place, whatever it is."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.kafka_records import KafkaRecords
from audit.adapters.mongo_facts import MongoFactStore, create_fact_indexes
from audit.adapters.mongo_ledger import MongoLedgerStore, create_ledger_indexes
from audit.domain.ledger import shard_name
from audit.domain.marks import read_mark
from audit.service.ingest import LedgerIngest
from audit.service.mirror import compare_with_topics
from audit_events import logged_in
from audit_testing import AuditHarness, audit_shard, new_user
from kits_testing import Servers
from shared.events import make_event
from shared.kafka.consumer import Origin, Received, receive
from shared.kafka.publisher import DurablePublisher
from shared.topics import AUTH_EVENTS

pytestmark = pytest.mark.integration
DEEP = b"[" * 400_000


def newer_version(user: str) -> bytes:
    """An event of a type this code does not know yet (`.v2`): kept as its exact bytes."""
    body = json.loads(make_event(logged_in(user), source="/auth").to_bytes())
    body["type"] = "auth.user_logged_in.v2"
    body["data"]["device"] = "a field v1 does not have"
    return json.dumps(body).encode()


async def test_unknown_versions_poison_and_repeats_each_get_their_place_in_the_live_ledger(
    audit: AuditHarness,
    producers: dict[str, DurablePublisher],
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    user = new_user()
    key = user.encode()
    known = make_event(logged_in(user), source="/auth")
    v2 = newer_version(user)
    marker = make_event(logged_in(user), source="/auth")
    sent = []
    for value in (known.to_bytes(), v2, DEEP, known.to_bytes(), marker.to_bytes()):
        sent.append(
            await producers["auth"].publish_raw(topic=AUTH_EVENTS, value=value, key=key, headers={})
        )
    await wait_until(lambda: audit.entry_stored(marker.id), timeout_s=60)
    shard = shard_name(topic=AUTH_EVENTS, partition=sent[0].partition)
    by_offset = {e.offset: e async for e in audit.container.ledger.scan(shard)}
    offsets = [m.offset for m in sent]
    assert all(o in by_offset for o in offsets)  # one entry each, at its offset's place
    assert by_offset[offsets[0]].data == known.to_bytes()
    assert by_offset[offsets[1]].data == v2  # the unknown version, as its exact bytes
    assert by_offset[offsets[1]].event_id == json.loads(v2)["id"]
    deep, again = read_mark(by_offset[offsets[2]].data), read_mark(by_offset[offsets[3]].data)
    assert deep is not None
    assert (deep.cause, deep.length) == ("undecodable", len(DEEP))
    assert again is not None
    assert (again.cause, again.event_id) == ("duplicate", known.id)
    assert by_offset[offsets[4]].data == marker.to_bytes()
    stored = [e async for e in audit.container.ledger.scan(shard)]
    assert audit_shard(shard, stored, []) == []


async def test_the_topic_comparison_names_a_record_the_ledger_lacks(
    servers: Servers,
    db: AsyncDatabase[dict[str, Any]],
    producers: dict[str, DurablePublisher],
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> None:
    """What the old consumer did to a `.v2` event (dead-lettered it, committed past it) is a
    hole the comparison finds; the same records through today's ingest leave none."""
    topic = await make_topic(unique("t-mirror"), partitions=1)
    user = new_user()
    values = [make_event(logged_in(user), source="/auth").to_bytes() for _ in range(5)]
    values[2] = newer_version(user)
    values.append(DEEP)
    for value in values:
        await producers["auth"].publish_raw(topic=topic, value=value, key=user.encode(), headers={})
    source = KafkaRecords(bootstrap=servers.kafka)
    records = [r async for batch in source.read(topic, 0) for r in batch]
    await create_ledger_indexes(db)
    await create_fact_indexes(db)

    async def ledger_of(chosen: list[Any]) -> MongoLedgerStore:
        store = MongoLedgerStore(db)
        await LedgerIngest(ledger=store, facts=MongoFactStore(db, grace_s=0))(
            [receive(r) for r in chosen]
        )
        return store

    holed = await ledger_of([r for r in records if b".v2" not in r.value])
    report = await compare_with_topics(ledger=holed, source=source, topics=[topic])
    v2_id = json.loads(values[2])["id"]
    assert report.findings == [
        f"{topic}/0 offset {records[2].offset}: record has no entry (event {v2_id})"
    ]
    assert report.records == 6


async def test_the_comparison_passes_on_a_full_mirror_and_counts_what_is_pending(
    servers: Servers,
    db: AsyncDatabase[dict[str, Any]],
    producers: dict[str, DurablePublisher],
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> None:
    topic = await make_topic(unique("t-mirror-ok"), partitions=1)
    user = new_user()
    for value in [make_event(logged_in(user), source="/auth").to_bytes() for _ in range(4)] + [
        DEEP
    ]:
        await producers["auth"].publish_raw(topic=topic, value=value, key=user.encode(), headers={})
    source = KafkaRecords(bootstrap=servers.kafka)
    records = [r async for batch in source.read(topic, 0) for r in batch]
    await create_ledger_indexes(db)
    await create_fact_indexes(db)
    store = MongoLedgerStore(db)
    await LedgerIngest(ledger=store, facts=MongoFactStore(db, grace_s=0))(
        [receive(r) for r in records[:3]]
    )
    pending = await compare_with_topics(
        ledger=store, source=source, topics=[topic], committed={(topic, 0): 3}
    )
    assert pending.ok
    assert (pending.entries, pending.pending) == (3, 2)
    holed = await compare_with_topics(
        ledger=store, source=source, topics=[topic], committed={(topic, 0): 5}
    )
    assert len(holed.findings) == 2  # committed past them, yet no entries: a hole


async def test_an_event_named_like_a_mark_cannot_take_a_later_records_place(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    """Before, the event kept the id `marked:<shard>@1` and the undecodable record at offset 1
    collided with it on every try: the batch could never be stored (the ledger blocked)."""
    await create_ledger_indexes(db)
    await create_fact_indexes(db)
    forged = make_event(logged_in(new_user()), source="/auth", event_id="marked:t-forge/0@1")
    records = [
        Received(
            origin=Origin("t-forge", 0, 0, None, 0), raw=forged.to_bytes(), event=forged, fault=None
        ),
        receive_bytes(DEEP, offset=1),
    ]
    store = MongoLedgerStore(db)
    await LedgerIngest(ledger=store, facts=MongoFactStore(db, grace_s=0))(records)
    stored = [e async for e in store.scan("t-forge/0")]
    assert [e.offset for e in stored] == [0, 1]
    first, second = read_mark(stored[0].data), read_mark(stored[1].data)
    assert first is not None
    assert first.cause == "invalid"  # kept only as its digest, under its own place's mark
    assert second is not None
    assert second.cause == "undecodable"
    assert audit_shard("t-forge/0", stored, []) == []


def receive_bytes(value: bytes, *, offset: int) -> Received:
    """A record of topic `t-forge` as the mirror consumer would hand it over."""
    record = ConsumerRecord("t-forge", 0, offset, 0, 0, None, value, None, 0, len(value), [])
    return receive(record)
