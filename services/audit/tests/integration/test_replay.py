"""Replay from Kafka into a fresh database reproduces the signed checkpoint roots exactly."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from audit.adapters.kafka_records import KafkaRecords
from audit.adapters.mongo_facts import MongoFactStore, create_fact_indexes
from audit.adapters.mongo_ledger import MongoLedgerStore, create_ledger_indexes
from audit.service import trees
from audit.service.ingest import LedgerIngest
from audit.service.judge import Judge
from audit.service.replay import (
    DiscardingPublisher,
    ReplayReport,
    compare,
    published_checkpoints,
    rebuild,
)
from audit.verify.checkpoint import ShardHead, sign_checkpoint
from audit_events import granted, logged_in, transfer
from audit_testing import AS_AUDITOR, Alone, at, new_user
from kits_testing import Servers
from shared.kafka.publisher import DurablePublisher

pytestmark = pytest.mark.integration
Wait = Callable[..., Awaitable[None]]


async def live_ledger_with_checkpoint(
    alone: Alone, wait_until: Wait, producer: DurablePublisher
) -> str:
    audit, publish = alone.harness, alone.publish
    user, app = new_user(), f"app_{uuid.uuid4().hex[:8]}"
    await publish("consent", granted(user, app))
    for _ in range(5):
        again = await publish("auth", logged_in(user))
    # whatever else is on the topics has its place too, and replay must reproduce it
    newer = json.loads(again.to_bytes())
    newer.update(id=str(uuid.uuid4()), type="auth.user_logged_in.v2")
    for value in (b"[" * 400_000, json.dumps(newer).encode(), again.to_bytes(), b"\xff"):
        await producer.publish_raw(
            topic=alone.topics["auth"], value=value, key=user.encode(), headers={}
        )
    last = await publish("auth", transfer(user, app, when=at()))

    async def covered() -> bool:
        response = await audit.http.get(f"/ledger/entries/{last.id}", headers=AS_AUDITOR)
        return response.status_code == 200

    await wait_until(covered, timeout_s=30)
    return user


async def test_replay_into_a_fresh_database_reproduces_every_published_root(
    audit_alone: Alone,
    producers: dict[str, DurablePublisher],
    wait_until: Wait,
    servers: Servers,
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> None:
    audit = audit_alone.harness
    user = await live_ledger_with_checkpoint(audit_alone, wait_until, producers["auth"])
    target = mongo_client[f"t_replay_{uuid.uuid4().hex[:8]}"]
    try:
        await create_ledger_indexes(target)
        await create_fact_indexes(target)
        ledger, facts = MongoLedgerStore(target), MongoFactStore(target, grace_s=0)
        # every test instance (and earlier runs on this machine) signs with the development
        # key: compare the checkpoints this instance signed before the replay read the topics
        signed = {c.checkpoint_id for c in await audit.container.checkpoints.all()}
        source = KafkaRecords(bootstrap=servers.kafka)
        report = await rebuild(
            source=source,
            ingest=LedgerIngest(ledger=ledger, facts=facts),
            judge=Judge(facts=facts, publisher=DiscardingPublisher()),
            topics=list(audit_alone.topics.values()),
        )
        checkpoints = await published_checkpoints(source)
        mine = audit.container.public_keys()
        ours = [(cid, cp) for cid, cp in checkpoints if cid in signed]
        await compare(
            ledger=ledger,
            checkpoints=ours,
            public_keys=mine,
            report=report,
            stored=audit.container.ledger,
        )
        assert report.ok, report.mismatches
        assert report.checkpoints >= 1
        assert report.heads >= 1
        latest = await audit.container.proofs.checkpoint(None)
        for head in latest.checkpoint.shards:
            assert await trees.root_at(ledger, head.shard, head.size) == head.root
        rebuilt = await facts.user(user)
        assert rebuilt.transfers != []
        assert len(rebuilt.verdicts) == 1

        forged = sign_checkpoint(
            private_key=audit.container.signing_key,
            origin="kits.audit/x",
            shards=[ShardHead(shard=latest.checkpoint.shards[0].shard, size=1, root=b"\x00" * 32)],
            time=at(),
        )
        parted = ReplayReport()
        await compare(
            ledger=ledger,
            checkpoints=[("forged", forged)],
            public_keys=mine,
            report=parted,
            stored=audit.container.ledger,
        )
        assert len(parted.mismatches) == 1
        assert parted.mismatches[0].startswith(
            f"checkpoint forged, shard {latest.checkpoint.shards[0].shard}: root at size 1 differs"
        )
        assert "the checkpoint disagrees with both" in parted.mismatches[0]
    finally:
        await mongo_client.drop_database(target.name)


AUDIT_ADMIN = Path(sys.executable).with_name("audit-admin")  # the installed console script


async def audit_admin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`audit-admin ARGS` in a process of its own, as an operator runs it (README)."""
    return await asyncio.to_thread(
        subprocess.run,
        [str(AUDIT_ADMIN), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_the_replay_command_says_the_roots_match(
    audit_alone: Alone,
    producers: dict[str, DurablePublisher],
    wait_until: Wait,
    servers: Servers,
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> None:
    audit = audit_alone.harness
    await live_ledger_with_checkpoint(audit_alone, wait_until, producers["auth"])
    into = f"t_replay_cli_{uuid.uuid4().hex[:8]}"
    settings = audit.container.settings
    env = {
        **os.environ,
        "AUDIT_ENVIRONMENT": "development",
        "AUDIT_KAFKA_BOOTSTRAP_SERVERS": servers.kafka,
        "AUDIT_MONGODB_URL": servers.mongodb_url,
        "AUDIT_MONGODB_DATABASE": settings.database_name,
        "AUDIT_LOG_ORIGIN": settings.log_origin,
        "AUDIT_LEDGER_TOPICS": settings.ledger_topics,
    }
    try:
        # The live service's key and database: the checkpoint covers what it stored.
        signed = await audit_admin(env, "checkpoint")
        assert signed.returncode == 0, signed.stdout + signed.stderr
        checkpoint_id = json.loads(signed.stdout)["checkpoint_id"]
        stored = await audit.container.proofs.checkpoint(checkpoint_id)
        assert stored.checkpoint.key_id in audit.container.public_keys()

        done = await audit_admin(env, "replay", "--into", into)
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(done.stdout)
        assert report["ok"] is True
        assert report["mismatches"] == []
        assert report["shard_heads_compared"] >= 1

        verify = await audit_admin(env, "verify-ledger")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert json.loads(verify.stdout)["ok"] is True
    finally:
        await mongo_client.drop_database(into)


def bare_env(**settings: str) -> dict[str, str]:
    """Only what a shell gives, plus the AUDIT_* settings named (no test defaults inherited)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
    } | {f"AUDIT_{name.upper()}": value for name, value in settings.items()}


async def test_the_commands_name_the_setting_they_miss_without_a_traceback(
    servers: Servers,
) -> None:
    secret_url = servers.mongodb_url.replace("mongodb://", "mongodb://operator:s3cr3t-pw@", 1)
    for command in (["verify-ledger"], ["replay", "--into", "t_never"], ["checkpoint"]):
        # As written in the README with nothing set: production, and no signing key.
        done = await audit_admin(bare_env(mongodb_url=secret_url), *command)
        assert done.returncode == 2, command
        assert "signing_key still has its development default" in done.stderr, command
        assert "Traceback" not in done.stderr, command
        assert "s3cr3t-pw" not in done.stderr + done.stdout, command
        unusable = await audit_admin(bare_env(signing_key="not-base64!"), *command)
        assert unusable.returncode == 2, command
        assert "base64 of a 32-byte Ed25519 seed" in unusable.stderr, command
        assert "Traceback" not in unusable.stderr, command


async def test_verify_ledger_refuses_a_database_that_does_not_exist(servers: Servers) -> None:
    missing = f"t_no_such_ledger_{uuid.uuid4().hex[:8]}"
    env = bare_env(
        environment="development", mongodb_url=servers.mongodb_url, mongodb_database=missing
    )
    done = await audit_admin(env, "verify-ledger")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"there is no database {missing!r} to verify" in done.stderr
    assert done.stdout == ""  # never an "ok" for a ledger that is not there
