"""MongoDB read models for the judge and the access report: one chain of documents per user.

Each ingested batch appends, per user it concerns, one document with that user's new consent
and transfer rows (`u:<user>:<k>`), and per app with new terms one document (`t:<app>:<k>`);
no document holds another user's rows, and nothing but `_id` is ever filtered on (chains in
`adapters/fact_chains.py`). The judge appends a *judgement* to the user's chain: every row
so far, each transfer's verdict and the events announcing what changed; its unique insert at
the chain's end is the claim, so a reader stops reading back at the newest judgement, and a
report or a timeline reads that user's own documents only. Times are integer microseconds
(BSON datetimes keep milliseconds). The batch's work for the judge goes to `pending_verdicts`,
pages of at most 200 items, written with the facts and deleted once judged.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.fact_chains import Chains, pack, unpack
from audit.adapters.fact_rows import (
    consent,
    consent_row,
    from_micros,
    micros,
    terms,
    terms_row,
    transfer,
    transfer_row,
    verdict,
)
from audit.domain.verdict import ConsentFact, TermsFact
from audit.service.ports import (
    Facts,
    Judgement,
    PendingPage,
    TermsWork,
    TransferRow,
    UserFacts,
    UserWork,
    VerdictState,
)
from shared.aio import settle
from shared.mongo import Document, insert_many_once

PENDING = "pending_verdicts"
PAGE_ITEMS = 200
FACTS, JUDGEMENT, SENT, TERMS, NOTED = "facts", "judgement", "sent", "terms", "noted"


async def create_fact_indexes(db: AsyncDatabase[Document]) -> None:
    """Every fact read is by `_id`; only the small pending collection is read by time."""
    await db[PENDING].create_index([("due", ASCENDING)])


def page_id(event_ids: Sequence[str]) -> str:
    """The same events always make the same page id."""
    return hashlib.sha256("\n".join(sorted(event_ids)).encode()).hexdigest()[:32]


class MongoFactStore:
    """Per-user chains of facts and judgements, app terms, and the judge's pending work."""

    def __init__(self, db: AsyncDatabase[Document], *, grace_s: float) -> None:
        self._db = db
        self._grace_s = grace_s
        self._chains = Chains(db, base=lambda d: d["kind"] == JUDGEMENT)
        self._terms: dict[str, tuple[int, set[TermsFact]]] = {}
        """Terms chains read so far (append-only: a later read reads only what is new)."""

    def remembered_chains(self) -> int:
        """Chain ends kept in memory (about 180 bytes each, at most a million)."""
        return self._chains.remembered()

    def tail_bytes(self) -> int:
        """Packed bytes of users' documents kept in memory (at most 64 MiB)."""
        return self._chains.tail_bytes()

    async def add(self, facts: Facts) -> None:
        """Append the batch's rows to each user's and app's chain and note the pending work,
        concurrently (the judge keeps a page whose facts it cannot read yet)."""
        users: dict[str, dict[str, list[Document]]] = {}
        for c in facts.consents:
            rows = users.setdefault(c.user_key, {"consents": [], "transfers": []})
            rows["consents"].append(consent_row(c.app_id, c.fact))
        for t in facts.transfers:
            rows = users.setdefault(t.data["user_key"], {"consents": [], "transfers": []})
            rows["transfers"].append(transfer_row(t))
        apps: dict[str, list[Document]] = {}
        for r in facts.terms:
            apps.setdefault(r.app_id, []).append(terms_row(r.fact))
        docs = {f"u:{u}": {"kind": FACTS, "z": pack(rows)} for u, rows in users.items()}
        docs.update({f"t:{a}": {"kind": TERMS, "z": pack({"terms": r})} for a, r in apps.items()})
        await settle(
            self._chains.append(docs), insert_many_once(self._db[PENDING], self._pages(facts))
        )

    def _pages(self, facts: Facts) -> list[Document]:
        """The work items of a batch, a page per 200 (a page's id derives from its events)."""
        items: dict[str, tuple[list[str], set[str], list[datetime]]] = {}
        for user, app, at, event_id in [
            *((c.user_key, c.app_id, c.fact.at, c.event_id) for c in facts.consents),
            *((t.data["user_key"], t.data["app_id"], t.at, t.event_id) for t in facts.transfers),
        ]:
            ids, item_apps, moments = items.setdefault(user, ([], set(), []))
            ids.append(event_id)
            item_apps.add(app)
            moments.append(at)
        work: list[tuple[list[str], list[Any]]] = [
            (ids, ["u", user, sorted(item_apps), micros(max(moments))])
            for user, (ids, item_apps, moments) in items.items()
        ]
        work += [([r.event_id], ["t", r.app_id, micros(r.fact.at)]) for r in facts.terms]
        due = time.time() + self._grace_s
        pages = []
        for start in range(0, len(work), PAGE_ITEMS):
            part = work[start : start + PAGE_ITEMS]
            ids = [i for item_ids, _ in part for i in item_ids]
            pages.append(
                {"_id": page_id(ids), "due": due, "z": pack({"items": [w for _, w in part]})}
            )
        return pages

    async def due(self, *, now: datetime, limit: int) -> list[PendingPage]:
        """Pending pages past their grace period, oldest first, until `limit` items (the
        collection is small: pages go once judged)."""
        pending = self._db[PENDING]
        found = [d async for d in pending.find({"due": {"$lte": now.timestamp()}})]
        pages, count = [], 0
        for doc in sorted(found, key=lambda d: (d["due"], d["_id"])):
            pages.append(_page(doc, unpack(doc["z"], pending.codec_options)["items"]))
            count += len(pages[-1].users) + len(pages[-1].terms)
            if count >= limit:
                break
        return pages

    async def user(self, user_key: str, *, fresh: bool = True) -> UserFacts:
        """Read back from the end of the user's chain to their latest judgement (without
        `fresh`, from the end this process remembers: the judge's claim checks it)."""
        chain = f"u:{user_key}"
        end = await self._chains.end(chain, probe=fresh)
        docs = await self._chains.read_back(chain, end=end, until=lambda d: d["kind"] == JUDGEMENT)
        options = self._db.codec_options
        consents: dict[tuple[Any, ...], ConsentFact] = {}
        transfers: dict[str, TransferRow] = {}
        verdicts: dict[str, VerdictState] = {}
        sent = {d["of"] for d in docs if d["kind"] == SENT}
        unsent: list[bytes] = []
        since = None
        for doc in reversed(docs):  # oldest first
            if doc["kind"] == SENT:
                continue
            body = unpack(doc["z"], options)
            for row in body["consents"]:
                fact = consent(row)
                consents[(row["app_id"], fact)] = fact
            transfers.update((r["id"], transfer(r)) for r in body["transfers"])
            if doc["kind"] == JUDGEMENT:
                verdicts = {r[0]: verdict(r) for r in body["verdicts"]}
                if body["outbox"] and _index(doc) not in sent:
                    unsent, since = list(body["outbox"]), float(doc["at"])
        by_app: dict[str, list[ConsentFact]] = {}
        for app, fact in consents:
            by_app.setdefault(app, []).append(fact)
        newest = [d["kind"] for d in docs if d["kind"] != SENT][:1]
        return UserFacts(
            user_key=user_key,
            consents=by_app,
            transfers=sorted(transfers.values(), key=lambda t: (t.at, t.event_id)),
            verdicts=verdicts,
            end=end,
            judged=newest == [JUDGEMENT],
            unsent=unsent,
            unsent_since=since,
        )

    async def terms(self, app_ids: Collection[str]) -> dict[str, list[TermsFact]]:
        """Each app's terms: the documents past what was read before (one probe if none)."""
        apps = sorted(set(app_ids))
        reads = await asyncio.gather(
            *(self._chains.read_from(f"t:{a}", self._terms.get(a, (0, set()))[0]) for a in apps)
        )
        out: dict[str, list[TermsFact]] = {}
        for app, (end, docs) in zip(apps, reads, strict=True):
            rows = set(self._terms.get(app, (0, set()))[1])
            for doc in docs:
                rows |= {terms(r) for r in unpack(doc["z"], self._db.codec_options)["terms"]}
            self._terms[app] = (end, rows)
            out[app] = sorted(rows, key=lambda t: (t.at, t.terms_version))
        return out

    async def note_transfers(self, app_users: Mapping[str, Collection[str]]) -> None:
        """Append to each app's list of users judged now (a page of 200 users at most)."""
        now = time.time()
        pieces = {app: sorted(users) for app, users in app_users.items() if users}
        while pieces:
            docs = {
                f"x:{app}": {"kind": NOTED, "at": now, "z": pack({"users": users[:PAGE_ITEMS]})}
                for app, users in pieces.items()
            }
            await self._chains.append(docs)
            pieces = {a: u[PAGE_ITEMS:] for a, u in pieces.items() if len(u) > PAGE_ITEMS}

    async def users_of_app(self, app_id: str, *, since: datetime) -> set[str]:
        """Read the app's noted users back to the first note older than `since`."""
        chain, moment = f"x:{app_id}", since.timestamp()
        end = await self._chains.end(chain)
        docs = await self._chains.read_back(chain, end=end, until=lambda d: d["at"] < moment)
        return {u for d in docs for u in unpack(d["z"], self._db.codec_options)["users"]}

    async def save_judgements(self, judged: Sequence[tuple[UserFacts, Judgement]]) -> list[bool]:
        """Insert each at its user's end as read (a bulk insert per bucket): a fact or
        judgement written since makes it lose."""
        now = time.time()
        places = [
            (f"u:{user.user_key}", user.end, _judgement_doc(user, judgement, now))
            for user, judgement in judged
        ]
        return await self._chains.insert_at(places)

    async def mark_sent(self, judged: Sequence[tuple[str, int]]) -> None:
        """Append to each user's chain that the judgement at that place went out."""
        await self._chains.append(
            {f"u:{user}": {"kind": SENT, "of": index} for user, index in judged}
        )

    async def forget_pending(self, page_id: str) -> None:
        """Drop a judged page."""
        await self._db[PENDING].delete_one({"_id": page_id})


def _judgement_doc(user: UserFacts, judgement: Judgement, now: float) -> Document:
    rows = {
        "consents": [consent_row(a, f) for a, facts in user.consents.items() for f in facts],
        "transfers": [transfer_row(t) for t in user.transfers],
        "verdicts": [
            [eid, s.verdict.covered, s.verdict.reason, s.changes]
            for eid, s in judgement.verdicts.items()
        ],
        "outbox": list(judgement.outbox),
    }
    return {"kind": JUDGEMENT, "at": now, "z": pack(rows)}


def _index(doc: Document) -> int:
    return int(str(doc["_id"]).rsplit(":", 1)[1])


def _page(doc: Document, items: list[Any]) -> PendingPage:
    users = [
        UserWork(user_key=i[1], apps=tuple(i[2]), moment=from_micros(i[3]))
        for i in items
        if i[0] == "u"
    ]
    terms = [TermsWork(app_id=i[1], at=from_micros(i[2])) for i in items if i[0] == "t"]
    return PendingPage(page_id=doc["_id"], users=users, terms=terms)
