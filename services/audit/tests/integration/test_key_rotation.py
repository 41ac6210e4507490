"""Rotating the checkpoint signing key: checkpoints signed before still verify while their key
is listed, and fail clearly once it is not."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from audit.bootstrap import Container, bootstrap
from audit.config import AuditSettings
from audit.domain.signing import signing_key_from_setting
from audit.entrypoints import consumers, http
from audit.entrypoints.cli import verify_ledger
from audit.service.checkpoints import checkpoint_id
from audit.service.replay import ReplayReport, compare
from audit.verify.checkpoint import key_id, load_public_key, public_keys_by_id
from audit.verify.errors import VerifyError
from audit.verify.responses import (
    parse_consistency_response,
    parse_inclusion_response,
    verify_consistency_response,
    verify_inclusion_response,
)
from audit_events import logged_in
from audit_testing import AS_AUDITOR, audit_settings
from kits_testing import Servers, eventually
from shared.app import service_app
from shared.events import make_event
from shared.kafka.publisher import DurablePublisher

pytestmark = pytest.mark.integration


def new_seed() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def public_b64(seed: str) -> str:
    return base64.b64encode(signing_key_from_setting(seed).public_key().public_bytes_raw()).decode()


@contextlib.asynccontextmanager
async def running(settings: AuditSettings, topic: str) -> AsyncIterator[httpx.AsyncClient]:
    """The audit app (HTTP, consumer, checkpoint loop) reading one fresh topic."""
    container = bootstrap(settings)
    consumers.register(container, topics=[topic])
    app = service_app(name="audit", summary="test", container=container, router=http.router)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://audit") as client,
    ):
        yield client


async def covered(client: httpx.AsyncClient, event_id: str, *, signer: str) -> dict[str, Any]:
    """The entry's proof once a checkpoint signed by `signer` (a key id) covers it."""
    holder: dict[str, Any] = {}

    async def check() -> bool:
        response = await client.get(f"/ledger/entries/{event_id}", headers=AS_AUDITOR)
        holder["body"] = response.json()
        return response.status_code == 200 and holder["body"]["checkpoint"]["key_id"] == signer

    await eventually(check, timeout_s=30)
    body: dict[str, Any] = holder["body"]
    return body


async def listed_keys(client: httpx.AsyncClient) -> dict[str, Any]:
    body = (await client.get("/ledger/keys")).json()
    return public_keys_by_id([load_public_key(k["public_key"].encode()) for k in body["keys"]])


async def test_checkpoints_signed_before_a_rotation_verify_while_their_key_is_listed(
    servers: Servers,
    make_topic: Callable[..., Awaitable[str]],
    producers: dict[str, DurablePublisher],
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = await make_topic(f"t-rotate-{uuid.uuid4().hex[:10]}", partitions=2)
    old_seed, new_seed_ = new_seed(), new_seed()
    old_id = key_id(signing_key_from_setting(old_seed).public_key())
    new_id = key_id(signing_key_from_setting(new_seed_).public_key())
    before = audit_settings(servers, signing_key=old_seed)
    same = {
        "mongodb_database": before.database_name,
        "ledger_group": before.ledger_group,
        "log_origin": before.log_origin,
    }

    async def publish(n: int) -> list[str]:
        ids = []
        for _ in range(n):
            event = make_event(logged_in(f"uk_{uuid.uuid4().hex[:12]}"), source="/auth")
            await producers["auth"].publish_raw(
                topic=topic, value=event.to_bytes(), key=event.key(), headers={}
            )
            ids.append(event.id)
        return ids

    async with running(before, topic) as client:
        early = await publish(5)
        old_proof = await covered(client, early[-1], signer=old_id)
    # Restart with a new current key; the old one retired, listed by its public half.
    after = audit_settings(
        servers, signing_key=new_seed_, previous_public_keys=public_b64(old_seed), **same
    )
    async with running(after, topic) as client:
        late = await publish(5)
        await covered(client, late[-1], signer=new_id)
        keys = (await client.get("/ledger/keys")).json()["keys"]
        assert {(k["key_id"], k["status"]) for k in keys} == {
            (new_id, "current"),
            (old_id, "retired"),
        }
        listed = await listed_keys(client)
        signed_before = parse_inclusion_response(old_proof).checkpoint
        assert signed_before is not None
        old_cp = checkpoint_id(signed_before)
        # An inclusion proof against the checkpoint the old key signed verifies.
        response = await client.get(
            f"/ledger/entries/{early[0]}", params={"checkpoint_id": old_cp}, headers=AS_AUDITOR
        )
        assert response.status_code == 200, response.text
        proof = parse_inclusion_response(response.json())
        assert verify_inclusion_response(response=proof, public_keys=listed).key_id == old_id
        latest = (await client.get("/ledger/checkpoints/latest")).json()
        assert latest["key_id"] == new_id
        consistency = await client.get(
            "/ledger/consistency",
            params={"old": old_cp, "new": latest["checkpoint_id"], "shard": proof.entry.shard},
        )
        assert consistency.status_code == 200, consistency.text
        verify_consistency_response(
            response=parse_consistency_response(consistency.json()), public_keys=listed
        )
        with pytest.raises(VerifyError, match=old_id):  # the old key alone is not enough
            verify_inclusion_response(
                response=parse_inclusion_response(response.json()),
                public_keys={new_id: listed[new_id]},
            )

    # Replay's comparison of signed roots, with the keys the restarted instance lists.
    assert await replay_mismatches(after) == []
    retired_dropped = audit_settings(servers, signing_key=new_seed_, **same)
    assert any(old_id in m for m in await replay_mismatches(retired_dropped))
    # The full audit, with both keys: every checkpoint verifies.
    assert await admin_verify(after) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"], report
    # Once the old key is no longer listed, its checkpoints fail, naming the key.
    assert await admin_verify(retired_dropped) == 1
    report = json.loads(capsys.readouterr().out)
    problems = [f["problem"] for f in report["findings"]]
    assert problems
    assert all(old_id in p and "not among the verification keys" in p for p in problems)


async def replay_mismatches(settings: AuditSettings) -> list[str]:
    """Replay's comparison of every stored checkpoint with the ledger (here: the live one)."""
    container: Container = bootstrap(settings)
    try:
        stored = await container.checkpoints.all()
        report = ReplayReport()
        await compare(
            ledger=container.ledger,
            checkpoints=[(c.checkpoint_id, c.checkpoint) for c in stored],
            public_keys=container.public_keys(),
            report=report,
        )
        return report.mismatches
    finally:
        await container.runtime.client.close()


async def admin_verify(settings: AuditSettings) -> int:
    """`audit-admin verify-ledger` with these settings."""
    container: Container = bootstrap(settings)
    try:
        return await verify_ledger(container)
    finally:
        await container.runtime.client.close()


def test_a_malformed_previous_key_is_refused_at_start(servers: Servers) -> None:
    with pytest.raises(ValueError, match="previous public key 2"):
        audit_settings(
            servers,
            previous_public_keys=public_b64(new_seed()) + ",bm90LWEta2V5",
        )
