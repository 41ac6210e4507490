"""MongoDB read models for the judge and the access report; every write keyed by event id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from audit.domain.verdict import ConsentFact, TermsFact, Verdict
from audit.service.ports import Facts, TransferRow
from shared.aio import settle
from shared.mongo import Document, insert_many_once, insert_once

CONSENTS, TERMS, TRANSFERS = "consent_facts", "terms_facts", "transfers"
PENDING, VERDICTS = "pending_verdicts", "verdicts"


async def create_fact_indexes(db: AsyncDatabase[Document]) -> None:
    """Hot reads are by key: a user's timeline, an app's terms, a user's transfers."""
    await db[CONSENTS].create_index([("user_key", ASCENDING), ("app_id", ASCENDING)])
    await db[TERMS].create_index([("app_id", ASCENDING)])
    await db[TRANSFERS].create_index([("data.user_key", ASCENDING)])
    await db[PENDING].create_index([("due", ASCENDING)])


class MongoFactStore:
    """Consent timeline, app terms, transfers, pending judgements and verdicts."""

    def __init__(self, db: AsyncDatabase[Document], *, grace_s: float) -> None:
        self._db = db
        self._grace_s = grace_s

    async def add(self, facts: Facts) -> None:
        """Store facts (a redelivery collides on the event id); transfers become pending.

        The four inserts are independent and each idempotent, so they run concurrently; a
        failure of one fails the batch, whose retry stores what is missing.
        """
        await settle(
            insert_many_once(
                self._db[CONSENTS],
                [
                    {
                        "_id": r.event_id,
                        "user_key": r.user_key,
                        "app_id": r.app_id,
                        "consent_id": r.fact.consent_id,
                        "version": r.fact.version,
                        "kind": r.fact.kind,
                        "at": r.fact.at,
                        "scopes": sorted(r.fact.scopes),
                        "terms_version": r.fact.terms_version,
                    }
                    for r in facts.consents
                ],
            ),
            insert_many_once(
                self._db[TERMS],
                [
                    {
                        "_id": r.event_id,
                        "app_id": r.app_id,
                        "terms_version": r.fact.terms_version,
                        "at": r.fact.at,
                    }
                    for r in facts.terms
                ],
            ),
            insert_many_once(
                self._db[TRANSFERS],
                [{"_id": t.event_id, "data": t.data, "at": t.at} for t in facts.transfers],
            ),
            insert_many_once(
                self._db[PENDING],
                [
                    {
                        "_id": t.event_id,
                        "due": t.at.timestamp() + self._grace_s,
                        "data": t.data,
                        "at": t.at,
                    }
                    for t in facts.transfers
                ],
            ),
        )

    async def due(self, *, now: datetime, limit: int) -> list[TransferRow]:
        """Transfers waiting for a verdict whose grace period is over, oldest first."""
        cursor = self._db[PENDING].find({"due": {"$lte": now.timestamp()}}).sort("due", 1)
        return [_transfer(doc) async for doc in cursor.limit(limit)]

    async def consents(self, *, user_key: str, app_id: str) -> list[ConsentFact]:
        """The consent timeline of one user and app."""
        cursor = self._db[CONSENTS].find({"user_key": user_key, "app_id": app_id})
        return [_consent(d) async for d in cursor]

    async def timelines(
        self, *, user_keys: Sequence[str], app_ids: Sequence[str]
    ) -> tuple[dict[tuple[str, str], list[ConsentFact]], dict[str, list[TermsFact]]]:
        """The consent timelines of these users and the terms of these apps, in two reads."""
        consents: dict[tuple[str, str], list[ConsentFact]] = {}
        cursor = self._db[CONSENTS].find({"user_key": {"$in": sorted(set(user_keys))}})
        async for d in cursor:
            consents.setdefault((d["user_key"], d["app_id"]), []).append(_consent(d))
        terms: dict[str, list[TermsFact]] = {}
        async for d in self._db[TERMS].find({"app_id": {"$in": sorted(set(app_ids))}}):
            terms.setdefault(d["app_id"], []).append(
                TermsFact(terms_version=d["terms_version"], at=d["at"])
            )
        return consents, terms

    async def terms(self, *, app_id: str) -> list[TermsFact]:
        """The terms an app has published."""
        cursor = self._db[TERMS].find({"app_id": app_id})
        return [TermsFact(terms_version=d["terms_version"], at=d["at"]) async for d in cursor]

    async def record_verdict(self, transfer: TransferRow, verdict: Verdict) -> None:
        """Keep the verdict (first one wins), then clear the pending mark."""
        await insert_once(
            self._db[VERDICTS],
            {
                "_id": transfer.event_id,
                "covered": verdict.covered,
                "reason": verdict.reason,
                "user_key": transfer.data["user_key"],
            },
        )
        await self._db[PENDING].delete_one({"_id": transfer.event_id})

    async def transfers_of(self, user_key: str) -> list[TransferRow]:
        """Every transfer of one user's data, oldest first."""
        cursor = self._db[TRANSFERS].find({"data.user_key": user_key})
        return sorted([_transfer(doc) async for doc in cursor], key=lambda t: (t.at, t.event_id))

    async def verdicts(self, event_ids: Sequence[str]) -> dict[str, Verdict]:
        """Verdicts of these transfers (absent while pending)."""
        cursor = self._db[VERDICTS].find({"_id": {"$in": list(event_ids)}})
        return {d["_id"]: Verdict(covered=d["covered"], reason=d["reason"]) async for d in cursor}


def _consent(d: Document) -> ConsentFact:
    return ConsentFact(
        consent_id=d["consent_id"],
        version=d["version"],
        kind=d["kind"],
        at=d["at"],
        scopes=frozenset(d["scopes"]),
        terms_version=d["terms_version"],
    )


def _transfer(doc: Document) -> TransferRow:
    return TransferRow(event_id=doc["_id"], data=doc["data"], at=doc["at"])
