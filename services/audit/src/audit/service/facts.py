"""The consent, terms and transfer facts a batch of ledger events carries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from audit.domain.verdict import ConsentFact, ConsentKind, TermsFact
from audit.service.ports import ConsentRow, Facts, TermsRow, TransferRow
from shared.events.auth import AppRegistered, AppTermsUpdated
from shared.events.consent import (
    ConsentGranted,
    ConsentInvalidated,
    ConsentRenewed,
    ConsentRevoked,
)
from shared.events.transfer import TransferRecorded
from shared.kafka.consumer import Delivery

_KINDS: dict[type[Any], ConsentKind] = {
    ConsentGranted: "granted",
    ConsentRenewed: "renewed",
    ConsentRevoked: "revoked",
    ConsentInvalidated: "invalidated",
}


def facts_of(deliveries: Sequence[Delivery]) -> Facts:
    """The consent, terms and transfer facts carried by a batch of events."""
    facts = Facts(consents=[], terms=[], transfers=[])
    for delivery in deliveries:
        event, data = delivery.event, delivery.event.data
        kind = _KINDS.get(type(data))
        if kind is not None:
            facts.consents.append(
                ConsentRow(
                    event.id, data.user_key, data.app_id, _consent_fact(kind, data, event.time)
                )
            )
        elif isinstance(data, AppRegistered | AppTermsUpdated):
            facts.terms.append(
                TermsRow(
                    event.id,
                    data.app_id,
                    TermsFact(terms_version=data.terms_version, at=event.time),
                )
            )
        elif isinstance(data, TransferRecorded):
            facts.transfers.append(
                TransferRow(
                    event_id=event.id, data=data.model_dump(mode="json"), at=data.released_at
                )
            )
    return facts


def _consent_fact(kind: ConsentKind, data: Any, at: datetime) -> ConsentFact:
    return ConsentFact(
        consent_id=data.consent_id,
        version=data.version,
        kind=kind,
        at=at,
        scopes=frozenset(getattr(data, "scopes", ())),
        terms_version=getattr(data, "terms_version", None),
    )
