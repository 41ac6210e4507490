"""MongoDB read models for the judge and the access report, written a page per batch.

FerretDB v1 pays per document and per field value (about 5-10k documents inserted a second
here, on the cores ingest also needs), so the consent, terms and transfer facts of one ingested
batch are one *page* per kind: the users (or apps) it concerns, and its rows packed as zlib of
their BSON; readers ask for the pages of a user (a multikey index on MongoDB) and keep that
user's rows. A page's id is derived from the event ids it holds, so the same batch delivered
again collides; a redelivery split differently repeats rows in another page, and readers keep
one row per event id. The batch's transfers are also one pending
page, deleted once the judge has a verdict for each; verdicts are one document per transfer
(the first one wins).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any

import bson
from bson.codec_options import CodecOptions
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from audit.domain.verdict import ConsentFact, TermsFact, Verdict
from audit.service.ports import ConsentRow, Facts, PendingPage, TermsRow, TransferRow
from shared.aio import settle
from shared.mongo import Document, insert_many_once

CONSENTS, TERMS, TRANSFERS = "consent_pages", "terms_pages", "transfer_pages"
PENDING, VERDICTS = "pending_verdicts", "verdicts"


async def create_fact_indexes(db: AsyncDatabase[Document]) -> None:
    """Hot reads are by key: a user's timeline, an app's terms, a user's transfers."""
    await db[CONSENTS].create_index([("users", ASCENDING)])
    await db[TERMS].create_index([("apps", ASCENDING)])
    await db[TRANSFERS].create_index([("users", ASCENDING)])
    await db[PENDING].create_index([("due", ASCENDING)])


def page_id(event_ids: Sequence[str]) -> str:
    """The same events always make the same page id."""
    return hashlib.sha256("\n".join(sorted(event_ids)).encode()).hexdigest()[:32]


PAGE_KEY_BYTES = 2000
"""FerretDB on PostgreSQL indexes a page's whole key list as one btree row of at most 2,704
bytes (about 67 UUID-length keys; past it every insert of the page fails, and the batch with
it, for good): a page lists at most this many bytes of keys (each counted with 4 more)."""


def _page(key: str, keys: Sequence[str], rows: list[Document]) -> list[Document]:
    """The rows (`keys[i]` is `rows[i]`'s) as pages whose key lists stay under the index's row
    limit, in order, so the same batch always makes the same pages (none without rows)."""
    pages: list[Document] = []
    group: list[Document] = []
    listed: set[str] = set()
    size = 0
    for k, row in zip(keys, rows, strict=True):
        cost = 0 if k in listed else len(k.encode()) + 4
        if group and size + cost > PAGE_KEY_BYTES:
            pages.append(_one_page(key, listed, group))
            group, listed, size, cost = [], set(), 0, len(k.encode()) + 4
        group.append(row)
        listed.add(k)
        size += cost
    return [*pages, _one_page(key, listed, group)] if group else pages


def _one_page(key: str, listed: set[str], rows: list[Document]) -> Document:
    return {"_id": page_id([r["id"] for r in rows]), key: sorted(listed), **_pack(rows)}


def _pack(rows: list[Document]) -> Document:
    """The rows as zlib of their BSON: FerretDB converts every field value of a document it
    stores or reads (measured: a page of 150 transfers took 24 ms to insert as fields, 6 ms
    packed), and the rows are only ever read whole."""
    return {"n": len(rows), "z": zlib.compress(bson.encode({"rows": rows}), 1)}


def _unpack(page: Document, options: CodecOptions[Document]) -> list[Document]:
    rows: list[Document] = bson.decode(zlib.decompress(page["z"]), codec_options=options)["rows"]
    return rows


async def _rows(
    collection: AsyncCollection[Document], query: dict[str, Any]
) -> AsyncIterator[Document]:
    """Each row of the matching pages once (a row repeated by a redelivery is skipped)."""
    seen: set[str] = set()
    async for page in collection.find(query):
        for row in _unpack(page, collection.codec_options):
            if row["id"] not in seen:
                seen.add(row["id"])
                yield row


class MongoFactStore:
    """Consent timeline, app terms, transfers, pending judgements and verdicts."""

    def __init__(self, db: AsyncDatabase[Document], *, grace_s: float) -> None:
        self._db = db
        self._grace_s = grace_s

    async def add(self, facts: Facts) -> None:
        """Store a batch's facts, a page per kind (idempotent); transfers become pending.

        The writes are independent and each idempotent, so they run concurrently; a failure of
        one fails the batch, whose retry stores what is missing.
        """
        consents = [_consent_row(r) for r in facts.consents]
        terms = [_terms_row(r) for r in facts.terms]
        transfers = [{"id": t.event_id, "data": t.data, "at": t.at} for t in facts.transfers]
        pages = [
            (CONSENTS, _page("users", [r.user_key for r in facts.consents], consents)),
            (TERMS, _page("apps", [r.app_id for r in facts.terms], terms)),
            (TRANSFERS, _page("users", [t.data["user_key"] for t in facts.transfers], transfers)),
        ]
        await settle(
            *(insert_many_once(self._db[name], docs) for name, docs in pages if docs),
            insert_many_once(self._db[PENDING], self._pending(transfers)),
        )

    def _pending(self, transfers: list[Document]) -> list[Document]:
        """The batch's transfers as one pending page, due once the last one's grace is over."""
        if not transfers:
            return []
        due = max(t["at"] for t in transfers).timestamp() + self._grace_s
        return [{"_id": page_id([t["id"] for t in transfers]), "due": due, **_pack(transfers)}]

    async def due(
        self, *, now: datetime, limit: int, judged: Collection[str] = frozenset()
    ) -> list[PendingPage]:
        """Pending pages past their grace period, oldest first, until `limit` transfers that
        are not in `judged`."""
        pages, count = [], 0
        pending = self._db[PENDING]
        async for doc in pending.find({"due": {"$lte": now.timestamp()}}).sort("due"):
            rows = [_transfer(r) for r in _unpack(doc, pending.codec_options)]
            pages.append(PendingPage(page_id=doc["_id"], transfers=rows))
            count += sum(1 for t in rows if t.event_id not in judged)
            if count >= limit:
                break
        return pages

    async def timelines(
        self, *, user_keys: Sequence[str], app_ids: Sequence[str]
    ) -> tuple[dict[tuple[str, str], list[ConsentFact]], dict[str, list[TermsFact]]]:
        """The consent timelines of these users and the terms of these apps, in two reads."""
        users, apps = sorted(set(user_keys)), sorted(set(app_ids))
        consents: dict[tuple[str, str], list[ConsentFact]] = {}
        async for r in _rows(self._db[CONSENTS], {"users": {"$in": users}}):
            if r["user_key"] in users:
                consents.setdefault((r["user_key"], r["app_id"]), []).append(_consent(r))
        terms: dict[str, list[TermsFact]] = {}
        async for r in _rows(self._db[TERMS], {"apps": {"$in": apps}}):
            if r["app_id"] in apps:
                terms.setdefault(r["app_id"], []).append(_terms(r))
        return consents, terms

    async def record_verdicts(self, judged: Sequence[tuple[TransferRow, Verdict]]) -> None:
        """Keep the verdicts (the first one of a transfer wins)."""
        await insert_many_once(
            self._db[VERDICTS],
            [
                {
                    "_id": transfer.event_id,
                    "covered": verdict.covered,
                    "reason": verdict.reason,
                    "user_key": transfer.data["user_key"],
                }
                for transfer, verdict in judged
            ],
        )

    async def forget_pending(self, page_id: str) -> None:
        """Drop a pending page once each of its transfers has a verdict."""
        await self._db[PENDING].delete_one({"_id": page_id})

    async def transfers_of(self, user_key: str) -> list[TransferRow]:
        """Every transfer of one user's data, oldest first."""
        rows = _rows(self._db[TRANSFERS], {"users": user_key})
        mine = [_transfer(r) async for r in rows if r["data"]["user_key"] == user_key]
        return sorted(mine, key=lambda t: (t.at, t.event_id))

    async def verdicts(self, event_ids: Sequence[str]) -> dict[str, Verdict]:
        """Verdicts of these transfers (absent while pending)."""
        cursor = self._db[VERDICTS].find({"_id": {"$in": list(event_ids)}})
        return {d["_id"]: Verdict(covered=d["covered"], reason=d["reason"]) async for d in cursor}


def _consent_row(r: ConsentRow) -> Document:
    return {
        "id": r.event_id,
        "user_key": r.user_key,
        "app_id": r.app_id,
        "consent_id": r.fact.consent_id,
        "version": r.fact.version,
        "kind": r.fact.kind,
        "at": r.fact.at,
        "scopes": sorted(r.fact.scopes),
        "terms_version": r.fact.terms_version,
    }


def _terms_row(r: TermsRow) -> Document:
    return {
        "id": r.event_id,
        "app_id": r.app_id,
        "terms_version": r.fact.terms_version,
        "at": r.fact.at,
    }


def _transfer(r: Document) -> TransferRow:
    return TransferRow(event_id=r["id"], data=r["data"], at=r["at"])


def _terms(r: Document) -> TermsFact:
    return TermsFact(terms_version=r["terms_version"], at=r["at"])


def _consent(d: Document) -> ConsentFact:
    return ConsentFact(
        consent_id=d["consent_id"],
        version=d["version"],
        kind=d["kind"],
        at=d["at"],
        scopes=frozenset(d["scopes"]),
        terms_version=d["terms_version"],
    )
