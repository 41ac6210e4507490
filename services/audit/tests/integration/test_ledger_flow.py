"""Events from several producers become ledger entries with proofs anyone can check."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from audit.verify.checkpoint import checkpoint_from_dict, load_public_key, public_keys_by_id
from audit.verify.cli import main as verify_cli
from audit.verify.responses import (
    parse_consistency_response,
    parse_inclusion_response,
    verify_consistency_response,
    verify_inclusion_response,
)
from audit_events import app_registered, granted, logged_in, sound_ingested, transfer
from audit_testing import AS_AUDITOR, AuditHarness, Publish, at, new_user, user_token

pytestmark = pytest.mark.integration
Wait = Callable[..., Awaitable[None]]


async def public_keys(audit: AuditHarness) -> dict[str, Any]:
    body = (await audit.http.get("/ledger/keys")).json()
    return public_keys_by_id([load_public_key(k["public_key"].encode()) for k in body["keys"]])


async def proof_when_covered(audit: AuditHarness, event_id: str, wait_until: Wait) -> Any:
    """The inclusion proof, once a signed checkpoint covers the entry."""
    holder: dict[str, Any] = {}

    async def covered() -> bool:
        response = await audit.http.get(f"/ledger/entries/{event_id}", headers=AS_AUDITOR)
        holder["r"] = response
        return response.status_code == 200

    await wait_until(covered, timeout_s=30)
    return holder["r"].json()


async def test_events_from_several_producers_have_inclusion_proofs_under_a_signed_checkpoint(
    audit: AuditHarness, publish: Publish, wait_until: Wait, tmp_path: Path
) -> None:
    user, app = new_user(), f"app_{uuid.uuid4().hex[:8]}"
    sent = [
        await publish("auth", app_registered(app)),
        await publish("auth", logged_in(user)),
        await publish("consent", granted(user, app)),
        await publish("sound", sound_ingested(user, app)),
        await publish("sound", transfer(user, app, when=at())),
    ]
    keys = await public_keys(audit)
    for event in sent:
        body = await proof_when_covered(audit, event.id, wait_until)
        response = parse_inclusion_response(body)
        checkpoint = verify_inclusion_response(response=response, public_keys=keys)
        assert response.entry.data == event.to_bytes()
        assert response.entry.shard.startswith(event.data.TOPIC + "/")
        assert checkpoint.shard_head(response.entry.shard).size > response.entry.index

    narrowed = await audit.http.get(
        f"/ledger/entries/{sent[-1].id}",
        params={"subject": sent[-1].subject},
        headers=AS_AUDITOR,
    )
    assert narrowed.status_code == 200
    assert narrowed.json()["entry"]["id"] == sent[-1].id

    # The same check from outside, with only the public key and the JSON: the verify command.
    (tmp_path / "entry.json").write_text(json.dumps(body))
    key = (await audit.http.get("/ledger/keys")).json()["keys"][0]["public_key"]
    (tmp_path / "key.b64").write_text(key)
    assert (
        verify_cli(
            [
                "verify",
                "inclusion",
                "--entry",
                str(tmp_path / "entry.json"),
                "--public-key",
                str(tmp_path / "key.b64"),
            ]
        )
        == 0
    )
    body["proof"] = body["proof"][1:] if body["proof"] else ["A" * 43 + "="]
    (tmp_path / "bad.json").write_text(json.dumps(body))
    assert (
        verify_cli(
            [
                "verify",
                "inclusion",
                "--entry",
                str(tmp_path / "bad.json"),
                "--public-key",
                str(tmp_path / "key.b64"),
            ]
        )
        == 1
    )


async def test_the_same_event_sent_twice_is_one_entry(
    audit: AuditHarness, producers: dict[str, Any], wait_until: Wait
) -> None:
    from shared.events import make_event

    user = new_user()
    event = make_event(logged_in(user), source="/auth")
    await producers["auth"].publish(event)
    await producers["auth"].publish(event)
    marker = make_event(logged_in(user), source="/auth")  # same key: after both copies
    await producers["auth"].publish(marker)
    await wait_until(lambda: audit.entry_stored(marker.id), timeout_s=30)
    stored = await audit.container.ledger.entry(event.id)
    assert stored is not None
    mine = [e async for e in audit.container.ledger.scan(stored.shard) if user.encode() in e.data]
    assert [e.event_id for e in mine] == [event.id, marker.id]


async def test_a_consistency_proof_between_an_early_and_a_late_checkpoint_verifies(
    audit: AuditHarness, publish: Publish, wait_until: Wait
) -> None:
    user = new_user()
    first = await publish("auth", logged_in(user))
    early = parse_inclusion_response(await proof_when_covered(audit, first.id, wait_until))
    for _ in range(30):
        last = await publish("auth", logged_in(user))
    late = parse_inclusion_response(await proof_when_covered(audit, last.id, wait_until))
    assert late.checkpoint is not None
    assert early.checkpoint is not None
    shard = early.entry.shard
    old_id = await _id_of(audit, early.checkpoint)
    new_id = await _id_of(audit, late.checkpoint)
    response = await audit.http.get(
        "/ledger/consistency", params={"old": old_id, "new": new_id, "shard": shard}
    )
    assert response.status_code == 200, response.text
    parsed = parse_consistency_response(response.json())
    keys = await public_keys(audit)
    verify_consistency_response(response=parsed, public_keys=keys)
    old_size = parsed.old.shard_head(shard).size
    assert old_size < parsed.new.shard_head(shard).size

    tampered = response.json()
    tampered["old"], tampered["new"] = tampered["new"], tampered["old"]
    with pytest.raises(Exception, match=r"(?i)size|consisten|proof"):
        verify_consistency_response(response=parse_consistency_response(tampered), public_keys=keys)


async def _id_of(audit: AuditHarness, checkpoint: Any) -> str:
    from audit.service.checkpoints import checkpoint_id

    cid = checkpoint_id(checkpoint)
    got = await audit.http.get(f"/ledger/checkpoints/{cid}")
    assert got.status_code == 200
    assert (
        checkpoint_from_dict({k: v for k, v in got.json().items() if k != "checkpoint_id"})
        == checkpoint
    )
    return cid


async def test_unknown_entries_and_checkpoints_are_404_and_bad_ids_422(
    audit: AuditHarness,
) -> None:
    assert (
        await audit.http.get(f"/ledger/entries/{uuid.uuid4()}", headers=AS_AUDITOR)
    ).status_code == 404
    assert (await audit.http.get("/ledger/checkpoints/00ff")).status_code == 404
    bad = await audit.http.get(
        "/ledger/consistency", params={"old": "zz", "new": "00", "shard": "a/1"}
    )
    assert bad.status_code == 422


async def test_an_entry_is_read_by_an_auditor_or_by_the_user_it_is_about(
    audit: AuditHarness, publish: Publish, wait_until: Wait
) -> None:
    """Entries carry pseudonymous keys: not public; checkpoints and keys are."""
    alice, bob, app = new_user(), new_user(), f"app_{uuid.uuid4().hex[:8]}"
    hers = await publish("consent", granted(alice, app))
    app_event = await publish("auth", app_registered(app))
    await proof_when_covered(audit, hers.id, wait_until)
    await proof_when_covered(audit, app_event.id, wait_until)

    async def status_of(event_id: str, authorization: str | None) -> int:
        headers = {} if authorization is None else {"Authorization": authorization}
        return (await audit.http.get(f"/ledger/entries/{event_id}", headers=headers)).status_code

    assert await status_of(hers.id, None) == 401
    assert await status_of(hers.id, "Bearer not-a-token") == 401
    assert await status_of(hers.id, "Basic abc") == 401
    assert await status_of(hers.id, f"Bearer {user_token(alice)}") == 200
    assert await status_of(hers.id, f"Bearer {user_token(bob)}") == 404  # not revealed
    assert await status_of(app_event.id, f"Bearer {user_token(alice)}") == 404
    assert await status_of(app_event.id, AS_AUDITOR["Authorization"]) == 200
    assert (await audit.http.get("/ledger/checkpoints/latest")).status_code == 200
    assert (await audit.http.get("/ledger/keys")).status_code == 200
