"""Who may read a ledger entry: an auditor every one, a user those about them."""

from __future__ import annotations

import json

from audit.service.proofs import AUDITOR, Reader


def event(data: object) -> bytes:
    return json.dumps({"specversion": "1.0", "id": "e1", "data": data}).encode()


def test_a_user_reads_the_events_about_them_only() -> None:
    alice = Reader(user_key="uk_alice")
    assert alice.may_read(event({"user_key": "uk_alice", "app_id": "a"}))
    assert not alice.may_read(event({"user_key": "uk_bob"}))
    assert not alice.may_read(event({"app_id": "a"}))  # an app's event: auditors only
    assert not alice.may_read(event("uk_alice"))
    assert not alice.may_read(b"not json")
    assert not alice.may_read(b"[1]")


def test_an_auditor_reads_every_event() -> None:
    assert AUDITOR.may_read(event({"app_id": "a"}))
    assert AUDITOR.may_read(b"not json")
