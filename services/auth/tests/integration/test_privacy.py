"""No phone number anywhere: every collection, every topic and every log line of a run.

Several users log in (one twice, so the lookup is read), edit their profiles and add videos;
one deletes the account. Then every document of every collection of auth's database, every
record the platform's topics (domain and dead-letter) received during the run, and every log
record of the run are searched for each number in every common written form and for the
unkeyed MD5/SHA-1/SHA-256 of those forms.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

import httpx
import phonenumbers
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from bson import json_util

from auth_testing import ISSUER, AuthHarness, fictional_number, log_in, skip_ahead
from kits_testing import Servers
from shared.topics import DOMAIN_TOPICS

pytestmark = pytest.mark.integration
PHONES = [fictional_number(n) for n in (7, 150, 333, 1021)]


def written_forms(e164: str) -> set[str]:
    """The number as people and systems write it, and the unkeyed hashes of those forms."""
    number = phonenumbers.parse(e164, None)
    fmt = phonenumbers.PhoneNumberFormat
    national = phonenumbers.format_number(number, fmt.NATIONAL)
    international = phonenumbers.format_number(number, fmt.INTERNATIONAL)
    digits = e164.lstrip("+")
    national_digits = "".join(ch for ch in national if ch.isdigit())
    forms = {
        e164,
        digits,
        national,
        national_digits,
        international,
        international.replace(" ", "-"),
        international.replace(" ", ""),
        phonenumbers.format_number(number, fmt.RFC3966),
        f"tel:{e164}",
        national.replace(" ", "-").replace("(", "").replace(")", ""),
        " ".join([digits[:1], digits[1:4], digits[4:7], digits[7:]]),
        "-".join([digits[1:4], digits[4:7], digits[7:]]),
    }
    hashes = {
        algo(form.encode()).hexdigest()
        for form in forms
        for algo in (hashlib.md5, hashlib.sha1, hashlib.sha256)
    }
    return forms | hashes


async def _topic_ends(bootstrap: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        # The platform's topics: every domain topic and every dead-letter topic (other tests'
        # temporary topics come and go while this runs).
        domain = {spec.name for spec in DOMAIN_TOPICS}
        topics = [t for t in await consumer.topics() if t in domain or t.endswith(".dlq")]
        await consumer._client.force_metadata_update()
        parts = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        return dict(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def _records_since(bootstrap: str, since: dict[TopicPartition, int]) -> list[bytes]:
    ends = await _topic_ends(bootstrap)
    wanted = {tp: end for tp, end in ends.items() if end > since.get(tp, 0)}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    found: list[bytes] = []
    try:
        if not wanted:
            return found
        consumer.assign(list(wanted))
        for tp in wanted:
            consumer.seek(tp, since.get(tp, 0))
        pending = dict(wanted)
        deadline = asyncio.get_running_loop().time() + 30
        while pending and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    found.append(record.value or b"")
                    found.append(record.key or b"")
                    found.extend(value for _, value in record.headers)
                if records and records[-1].offset + 1 >= pending.get(tp, 0):
                    pending.pop(tp, None)
        assert not pending, f"{len(pending)} partitions not read to their end"
    finally:
        await consumer.stop()
    return found


def _log_text(records: list[logging.LogRecord]) -> str:
    return "\n".join(
        f"{r.getMessage()} {json.dumps({k: str(v) for k, v in r.__dict__.items()})}"
        for r in records
    )


async def test_no_number_in_any_collection_topic_or_log(
    auth: AuthHarness, servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    since = await _topic_ends(servers.kafka)
    users: dict[str, str] = {}
    for n, phone in enumerate(PHONES):
        client = httpx.AsyncClient(transport=auth.http._transport, base_url=ISSUER)
        users[phone] = await log_in(client, phone)
        profile = {"display_name": f"User {n}", "bio": "I make field recordings."}
        assert (await client.put("/v1/me/profile", json=profile)).status_code == 200
        video = {
            "title": f"Take {n}",
            "cover_image_url": "https://cdn.example/c.png",
            "duration": 30,
        }
        assert (await client.post("/v1/me/videos", json=video)).status_code == 201
        if n == 0:
            skip_ahead(auth, 61)
            assert await log_in(client, phone) == users[phone]  # a known number: lookup read
        if n == 1:
            assert (await client.delete("/v1/me")).status_code == 204
        await client.aclose()
    db = auth.container.runtime.db
    stored = ""
    for name in await db.list_collection_names():
        documents = await db[name].find({}).to_list()
        stored += json_util.dumps(documents)
    published = b"\n".join(await _records_since(servers.kafka, since)).decode(errors="replace")
    logged = _log_text(caplog.records)
    assert "auth.user_signed_up.v1" in published  # the run's events were read
    assert users[PHONES[0]] in stored
    # Booleans, so a failure's report never prints the text that holds the number.
    for phone in PHONES:
        for form in written_forms(phone):
            in_db, in_kafka, in_logs = form in stored, form in published, form in logged
            assert not in_db, f"a form of a number is stored: {form[:4]}…"
            assert not in_kafka, f"a form of a number was published: {form[:4]}…"
            assert not in_logs, f"a form of a number was logged: {form[:4]}…"
