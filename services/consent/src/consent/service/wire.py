"""Consent versions to wire events and back (the contracts of `shared.events.consent`).

`to_event` is what the service publishes for each version; `from_event` rebuilds that version
from the event and the version before it (replay). Together they say that the events carry
every field of the record, which the replay test checks field by field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from consent.domain.model import Consent, RevokeReason, Terms
from shared.events import CloudEvent, EventData, make_event
from shared.events.consent import (
    ConsentGranted,
    ConsentInvalidated,
    ConsentRenewed,
    ConsentRevoked,
)

VERSION_EVENTS = (ConsentGranted, ConsentRenewed, ConsentRevoked, ConsentInvalidated)
REVOKE_REASONS: tuple[RevokeReason, ...] = ("user", "user_deleted", "app_removed")


def to_event(consent: Consent, *, source: str) -> CloudEvent[Any]:
    """The event that announces this version, timed at the change."""
    event = make_event(_data(consent), source=source)
    return event.model_copy(update={"time": consent.changed_at})


def _data(c: Consent) -> EventData:
    ids: dict[str, Any] = {
        "user_key": c.user_key,
        "app_id": c.app_id,
        "consent_id": c.consent_id,
        "version": c.version,
    }
    if c.change in ("granted", "renewed"):
        kind = ConsentGranted if c.change == "granted" else ConsentRenewed
        return kind(
            **ids,
            scopes=c.scopes,
            terms_version=c.terms.version,
            recipients=c.terms.recipients,
            retention_days=c.terms.retention_days,
            purpose=c.purpose,
            pairwise_subject=c.pairwise_subject or None,
        )
    if c.change == "revoked":
        reason = c.reason if c.reason in REVOKE_REASONS else "user"
        return ConsentRevoked(**ids, reason=reason)
    return ConsentInvalidated(**ids, terms_version=c.terms.version, new_terms_version=c.reason)


def from_event(event: CloudEvent[Any], previous: Consent | None) -> Consent:
    """The version an event announces, given the version before it (None for a grant)."""
    data, at = event.data, event.time
    if isinstance(data, ConsentGranted):
        return Consent(
            consent_id=data.consent_id,
            user_key=data.user_key,
            app_id=data.app_id,
            version=data.version,
            status="active",
            change="granted",
            scopes=tuple(data.scopes),
            purpose=data.purpose or "",
            terms=Terms(data.terms_version, tuple(data.recipients), data.retention_days),
            pairwise_subject=data.pairwise_subject or "",
            granted_at=at,
            changed_at=at,
        )
    if previous is None:
        raise ValueError(f"{event.type} for {data.consent_id} v{data.version}: no earlier version")
    common: dict[str, Any] = {"version": data.version, "changed_at": at}
    if isinstance(data, ConsentRenewed):
        terms = Terms(data.terms_version, tuple(data.recipients), data.retention_days)
        return replace(
            previous,
            **common,
            status="active",
            change="renewed",
            scopes=tuple(data.scopes),
            purpose=data.purpose or "",
            terms=terms,
            pairwise_subject=data.pairwise_subject or "",
            reason="",
        )
    if isinstance(data, ConsentRevoked):
        return replace(previous, **common, status="revoked", change="revoked", reason=data.reason)
    if isinstance(data, ConsentInvalidated):
        return replace(
            previous,
            **common,
            status="invalidated",
            change="invalidated",
            reason=data.new_terms_version,
        )
    raise ValueError(f"not a consent version event: {event.type}")
