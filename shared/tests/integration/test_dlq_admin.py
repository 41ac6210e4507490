"""`kits-dlq` on the real broker: dead letters listed by cause, re-driven once, bytes intact."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from kits_testing import Servers
from shared.kafka.dlq_admin import run

pytestmark = pytest.mark.integration
SECRET = b"do-not-print-this-value"


@dataclass(frozen=True)
class Original:
    """A record as it was on its origin topic before it failed."""

    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp_ms: int


def original(topic: str, n: int, *, partition: int = 1) -> Original:
    return Original(
        topic=topic,
        partition=partition,
        offset=100 + n,
        value=SECRET + b"-" + str(n).encode() + b'{"x": [[[[',
        key=f"uk_dlq_key_{n}".encode(),
        headers=(
            ("content-type", b"application/cloudevents+json"),
            ("traceparent", b"00-ab-cd-01"),
        ),
        timestamp_ms=1_760_000_000_000 + n,
    )


def dlq_headers(rec: Original, *, group: str, cause: str, error_type: str) -> list[Any]:
    """The headers the lead's dead-letter writer adds, after the original ones."""
    added = {
        "dlq-origin-topic": rec.topic,
        "dlq-origin-partition": str(rec.partition),
        "dlq-origin-offset": str(rec.offset),
        "dlq-origin-key": base64.b64encode(rec.key).decode() if rec.key else "",
        "dlq-origin-timestamp": str(rec.timestamp_ms),
        "dlq-group": group,
        "dlq-cause": cause,
        "dlq-error-type": error_type,
        "dlq-error": f"{cause}: the record could not be handled (no input values)",
        "dlq-attempts": "1",
        "dlq-failed-at": "2026-12-02T01:00:00+00:00",
    }
    return [*rec.headers, *((k, v.encode()) for k, v in added.items())]


async def park(bootstrap: str, *, group: str, letters: list[tuple[Original, str, str]]) -> None:
    """Write dead letters onto `<group>.dlq` exactly as the consumer pipeline does."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for rec, cause, error_type in letters:
            await producer.send_and_wait(
                f"{group}.dlq",
                value=rec.value,
                key=rec.key,
                timestamp_ms=rec.timestamp_ms,
                headers=dlq_headers(rec, group=group, cause=cause, error_type=error_type),
            )
    finally:
        await producer.stop()


async def kits_dlq(*argv: str, servers: Servers) -> tuple[int, Any, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(["--bootstrap", servers.kafka, *argv], out=out, err=err)
    text = out.getvalue()
    return code, (json.loads(text) if text.startswith("{") else text), err.getvalue()


async def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


@pytest.fixture
async def dead(
    servers: Servers, unique: Callable[[str], str], make_topic: Callable[..., Awaitable[str]]
) -> tuple[str, str, str, list[Original]]:
    """A group with five dead letters from two origin topics, of four causes."""
    group = unique("it-dlq-group")
    first, second = unique("it-dlq-origin-a"), unique("it-dlq-origin-b")
    for topic in (first, second):
        await make_topic(topic, partitions=3)
    await make_topic(f"{group}.dlq")
    recs = [original(first, 0), original(first, 1, partition=2), original(first, 2)]
    recs += [original(second, 3, partition=0), original(second, 4)]
    causes = [
        ("undecodable", "JSONDecodeError"),
        ("undecodable", "RecursionError"),
        ("invalid", "ValidationError"),
        ("rejected", "PermanentError"),
        ("unknown-type", "UnknownEventType"),
    ]
    await park(
        servers.kafka, group=group, letters=[(r, *c) for r, c in zip(recs, causes, strict=True)]
    )
    return group, first, second, recs


async def test_list_counts_dead_letters_by_cause_and_never_prints_their_values(
    servers: Servers, dead: tuple[str, str, str, list[Original]]
) -> None:
    group, first, second, recs = dead
    code, listing, _ = await kits_dlq("list", "--group", group, servers=servers)
    assert code == 0
    assert listing["total"] == 5
    assert listing["by_cause"] == {"invalid": 1, "rejected": 1, "undecodable": 2, "unknown-type": 1}
    assert {"cause": "undecodable", "error_type": "RecursionError", "count": 1} in listing[
        "by_error_type"
    ]
    row = listing["dead_letters"][1]
    assert row["dlq_offset"] == 1
    assert row["origin"] == {"topic": first, "partition": 2, "offset": 101}
    assert (row["cause"], row["error_type"]) == ("undecodable", "RecursionError")
    assert row["failed_at"] == "2026-12-02T01:00:00+00:00"
    assert row["value"] == {
        "length": len(recs[1].value),
        "sha256": hashlib.sha256(recs[1].value).hexdigest(),
    }
    assert row["redriven"] is None
    raw = json.dumps(listing)
    assert SECRET.decode() not in raw
    assert "uk_dlq_key" not in raw
    assert base64.b64encode(recs[1].key or b"").decode() not in raw

    _, undecodable, _ = await kits_dlq(
        "list", "--group", group, "--cause", "undecodable", servers=servers
    )
    assert [r["dlq_offset"] for r in undecodable["dead_letters"]] == [0, 1]
    _, by_origin, _ = await kits_dlq(
        "list", "--group", group, "--origin-topic", second, servers=servers
    )
    assert by_origin["by_cause"] == {"rejected": 1, "unknown-type": 1}
    code, text, _ = await kits_dlq("--text", "list", "--group", group, servers=servers)
    assert code == 0
    assert f"{group}.dlq: 5 dead letter(s), 0 re-driven" in text
    assert SECRET.decode() not in text


async def test_redrive_publishes_the_original_record_once(
    servers: Servers,
    dead: tuple[str, str, str, list[Original]],
    record_at: Callable[..., Awaitable[Any]],
) -> None:
    group, first, _, recs = dead
    code, report, _ = await kits_dlq(
        "redrive", "--group", group, "--offsets", "0,1", servers=servers
    )
    assert code == 0, report
    assert report["redriven"] == 2
    for offset in (0, 1):
        to = report["chosen"][offset]["redriven"]
        assert (to["topic"], to["partition"]) == (first, recs[offset].partition)
        got = await record_at(first, partition=to["partition"], offset=to["offset"])
        assert got.value == recs[offset].value
        assert got.key == recs[offset].key
        assert list(got.headers) == [
            *recs[offset].headers,
            ("dlq-redriven-from", f"{group}.dlq/{offset}".encode()),
        ]
    before = await end_offsets(servers.kafka, first, 3)
    code, again, _ = await kits_dlq(
        "redrive", "--group", group, "--offsets", "0,1", servers=servers
    )
    assert code == 0
    assert (again["redriven"], again["chosen"]) == (0, [])
    assert [a["dlq_offset"] for a in again["already_redriven"]] == [0, 1]
    assert await end_offsets(servers.kafka, first, 3) == before
    _, listing, _ = await kits_dlq("list", "--group", group, servers=servers)
    assert [r["redriven"] is not None for r in listing["dead_letters"]] == [1, 1, 0, 0, 0]
    assert listing["redriven"] == 2


async def test_redrive_by_cause_dry_run_and_force(
    servers: Servers, dead: tuple[str, str, str, list[Original]]
) -> None:
    group, first, _, _ = dead
    before = await end_offsets(servers.kafka, first, 3)
    code, dry, _ = await kits_dlq(
        "redrive", "--group", group, "--cause", "undecodable", "--dry-run", servers=servers
    )
    assert code == 0
    assert [r["dlq_offset"] for r in dry["chosen"]] == [0, 1]
    assert (dry["dry_run"], dry["redriven"]) == (True, 0)
    assert await end_offsets(servers.kafka, first, 3) == before
    await kits_dlq("redrive", "--group", group, "--cause", "undecodable", servers=servers)
    _, forced, _ = await kits_dlq(
        "redrive", "--group", group, "--offsets", "1", "--force", servers=servers
    )
    assert forced["redriven"] == 1
    assert forced["chosen"][0]["redriven"]["forced"] is True
    after = await end_offsets(servers.kafka, first, 3)
    assert sum(after.values()) - sum(before.values()) == 3  # two by cause, one forced


async def test_redrive_of_an_absent_offset_publishes_nothing(
    servers: Servers, dead: tuple[str, str, str, list[Original]]
) -> None:
    group, first, _, _ = dead
    code, out, err = await kits_dlq(
        "redrive", "--group", group, "--offsets", "0,9", servers=servers
    )
    assert code == 2
    assert out == ""
    assert "no dead letter at offset(s) 9" in err
    assert sum((await end_offsets(servers.kafka, first, 3)).values()) == 0
    code, _, err = await kits_dlq("redrive", "--group", group, "--offsets", "1,x", servers=servers)
    assert code == 2
    assert "--offsets wants dlq offsets separated by commas" in err
    code, _, err = await kits_dlq("list", "--group", group + "-none", servers=servers)
    assert code == 2
    assert "does not exist" in err


async def test_the_console_script_redrives_a_cause(
    servers: Servers, dead: tuple[str, str, str, list[Original]]
) -> None:
    group, _, second, _ = dead
    script = Path(sys.executable).with_name("kits-dlq")
    process = await asyncio.create_subprocess_exec(
        str(script),
        "redrive",
        "--group",
        group,
        "--cause",
        "rejected",
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": servers.kafka},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    report = json.loads(out)
    assert [r["dlq_offset"] for r in report["chosen"]] == [3]
    assert report["chosen"][0]["redriven"]["topic"] == second
    assert SECRET not in out
