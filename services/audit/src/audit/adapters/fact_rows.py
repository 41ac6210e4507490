"""How fact rows are stored: times as integer microseconds, rows as plain documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from audit.domain.verdict import ConsentFact, TermsFact, Verdict
from audit.service.ports import TransferRow, VerdictState
from shared.mongo import Document

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """A time as integer microseconds since the epoch (exact for Python datetimes)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    """The datetime `micros` was given."""
    return _EPOCH + timedelta(microseconds=value)


def consent_row(app_id: str, f: ConsentFact) -> Document:
    return {
        "app_id": app_id,
        "consent_id": f.consent_id,
        "version": f.version,
        "kind": f.kind,
        "at": micros(f.at),
        "scopes": sorted(f.scopes),
        "terms_version": f.terms_version,
    }


def consent(d: Document) -> ConsentFact:
    return ConsentFact(
        consent_id=d["consent_id"],
        version=d["version"],
        kind=d["kind"],
        at=from_micros(d["at"]),
        scopes=frozenset(d["scopes"]),
        terms_version=d["terms_version"],
    )


def terms_row(f: TermsFact) -> Document:
    return {"terms_version": f.terms_version, "at": micros(f.at)}


def terms(r: Document) -> TermsFact:
    return TermsFact(terms_version=r["terms_version"], at=from_micros(r["at"]))


def transfer_row(t: TransferRow) -> Document:
    return {"id": t.event_id, "data": t.data, "at": micros(t.at)}


def transfer(r: Document) -> TransferRow:
    return TransferRow(event_id=r["id"], data=r["data"], at=from_micros(r["at"]))


def verdict(row: list[Any]) -> VerdictState:
    return VerdictState(verdict=Verdict(covered=row[1], reason=row[2]), changes=row[3])
