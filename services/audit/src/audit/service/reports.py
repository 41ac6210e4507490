"""The per-user access report: every transfer of their data and whether consent covered it."""

from __future__ import annotations

from typing import Any

from audit.service.ports import FactStore


async def access_report(facts: FactStore, *, user_key: str) -> dict[str, Any]:
    """Plain JSON: to whom, when, which fields, under which consent and terms, the verdict
    (and how many times late events corrected it); reads only the user's own documents."""
    user = await facts.user(user_key)
    rows = []
    for t in user.transfers:
        state = user.verdicts.get(t.event_id)
        verdict = None if state is None else state.verdict
        rows.append(
            {
                "transfer_id": t.data["transfer_id"],
                "event_id": t.event_id,
                "app_id": t.data["app_id"],
                "released_at": t.data["released_at"],
                "fields_released": t.data["fields_released"],
                "scopes_used": t.data["scopes_used"],
                "purpose": t.data["purpose"],
                "consent_id": t.data["consent_id"],
                "consent_version": t.data["consent_version"],
                "terms_version": t.data["terms_version"],
                "verdict": "pending"
                if verdict is None
                else ("covered" if verdict.covered else "violation"),
                "violation_reason": None if verdict is None else verdict.reason,
                "corrections": 0 if state is None else state.changes,
            }
        )
    return {
        "user": user_key,
        "transfers": rows,
        "violations": sum(r["verdict"] == "violation" for r in rows),
    }
