"""The violation detector: judge each user's transfers against their consent timeline, again
whenever a fact arrives that could change a verdict, and publish each change once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta

from audit.domain.verdict import TermsFact, TransferFact, Verdict, judge, outcome
from audit.domain.watermarks import Watermarks
from audit.service.checkpoints import EventPublisher
from audit.service.ports import (
    FactStore,
    Judgement,
    PendingPage,
    Progress,
    TransferRow,
    UserFacts,
    VerdictState,
)
from shared.aio import settle
from shared.events import make_event, parse
from shared.events.audit import VerdictCorrected, ViolationDetected
from shared.topics import AUTH_EVENTS, CONSENT_EVENTS

log = logging.getLogger(__name__)
_VERDICTS = uuid.UUID("6f1d0a52-8c1e-4f7e-9d2b-3a9c5e7b1f40")


def verdict_event_id(transfer_event_id: str, *, changes: int, verdict: Verdict) -> str:
    """One id per transfer, change and outcome: a second publish of it is a duplicate."""
    return str(uuid.uuid5(_VERDICTS, f"{transfer_event_id}/{changes}/{outcome(verdict)}"))


class Judge:
    """Judges the users of pending work; a judgement is claimed (unique insert at the end of
    the user's chain) before its events are published, so a second round, a restart or a
    second instance publishes nothing again.

    A late consent event makes its user's work again; a late terms event makes the work of
    every user whose transfers of that app were judged since `skew_s` before its time. Events
    of a claimed judgement not marked published after `stale_s` (its claimer died) are
    published by the next judgement of that user, with their ids: a crash between publish and
    mark is the one way an id goes out twice.
    """

    def __init__(
        self,
        *,
        facts: FactStore,
        publisher: EventPublisher,
        progress: Progress | None = None,
        consent_topics: tuple[str, ...] = (CONSENT_EVENTS,),
        terms_topics: tuple[str, ...] = (AUTH_EVENTS,),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        skew_s: float = 300.0,
        stale_s: float = 30.0,
        concurrency: int = 16,
    ) -> None:
        self._facts, self._publisher, self._clock = facts, publisher, clock
        self._progress, self._marks = progress, Watermarks()
        self._consent_topics, self._terms_topics = consent_topics, terms_topics
        self._skew, self._stale_s = timedelta(seconds=skew_s), stale_s
        self._limit = asyncio.Semaphore(concurrency)

    async def run_once(self, *, limit: int = 500) -> int:
        """One round over due pending pages; returns users judged plus pages done (0: none)."""
        now = self._clock()
        if self._progress is not None:
            ends, committed = await self._progress.offsets()
            self._marks.observe(now=now.timestamp(), ends=ends, committed=committed)
        pages = [p for p in await self._facts.due(now=now, limit=limit) if self._ready(p)]
        if not pages:
            return 0
        expect: dict[str, set[datetime]] = {}
        for p in pages:
            for w in p.users:
                expect.setdefault(w.user_key, set()).add(w.moment)
        again: set[str] = set()  # a judgement of theirs may predate these terms: judge anyway
        for app, at in {(t.app_id, t.at) for p in pages for t in p.terms}:
            again |= await self._facts.users_of_app(app, since=at - self._skew)
        judged, undone, states = await self.judge_users(
            expect.keys() | again, now=now, again=again, expect=expect
        )
        unread = {  # written with its facts: keep a page whose facts were not readable yet
            p.page_id for p in pages for w in p.users if not _holds(states[w.user_key], w.moment)
        }
        done = [
            p
            for p in pages
            if p.page_id not in unread and not (undone and (p.terms or undone & _users(p)))
        ]
        for page in done:
            await self._facts.forget_pending(page.page_id)
        return judged + len(done)

    async def judge_users(
        self,
        users: Collection[str],
        *,
        now: datetime,
        again: Collection[str] = (),
        expect: Mapping[str, Collection[datetime]] | None = None,
    ) -> tuple[int, set[str], dict[str, UserFacts]]:
        """Judge these users (those in `again` even when nothing of theirs is new); returns
        how many judgements were stored, the users to try again, and what was read.

        Users are read from the chain ends this process knows; one whose `expect`ed facts
        are not there is read again from the true end (another writer appended)."""
        states, unread = await self._states(users, expect or {})
        busy = {u for u, s in states.items() if self._busy(s, now)}
        todo = [
            s
            for u, s in sorted(states.items())
            if u not in busy | unread and (u in again or not _settled(s))
        ]
        new: dict[str, set[str]] = {}
        for state in todo:
            for t in state.transfers:
                if t.event_id not in state.verdicts:
                    new.setdefault(t.data["app_id"], set()).add(state.user_key)
        # noted before the terms are read: a terms event stored after this read finds the user
        await self._facts.note_transfers(new)
        terms = await self._facts.terms({t.data["app_id"] for s in todo for t in s.transfers})
        lost = await self._conclude([(s, self.judgement(s, terms)) for s in todo])
        return len(todo) - len(lost), busy | lost, states

    async def _states(
        self, users: Collection[str], expect: Mapping[str, Collection[datetime]]
    ) -> tuple[dict[str, UserFacts], set[str]]:
        """The users' facts, and those whose expected facts are not readable yet (their page
        waits: there is nothing to judge them by)."""

        def missing(state: UserFacts) -> bool:
            return not all(_holds(state, m) for m in expect.get(state.user_key, ()))

        states = {s.user_key: s for s in await self._read(users, fresh=False)}
        stale = [u for u, s in states.items() if missing(s)]
        states.update((s.user_key, s) for s in await self._read(stale, fresh=True))
        return states, {u for u in stale if missing(states[u])}

    async def _read(self, users: Collection[str], *, fresh: bool) -> list[UserFacts]:
        async def one(user_key: str) -> UserFacts:
            async with self._limit:
                return await self._facts.user(user_key, fresh=fresh)

        return list(await asyncio.gather(*(one(u) for u in sorted(users))))

    def _busy(self, state: UserFacts, now: datetime) -> bool:
        """Another claimer may be publishing this user's latest judgement right now."""
        since = state.unsent_since
        return since is not None and since > now.timestamp() - self._stale_s

    async def _conclude(self, judged: list[tuple[UserFacts, Judgement]]) -> set[str]:
        """Claim all, publish what was claimed, mark it; returns the users whose claim lost."""
        won = await self._facts.save_judgements(judged)
        claimed = [(s, j) for (s, j), ok in zip(judged, won, strict=True) if ok and j.outbox]
        # sent together (one user's events keep their order: one key, one partition)
        await settle(*(self._publisher.publish(parse(raw)) for _, j in claimed for raw in j.outbox))
        await self._facts.mark_sent([(s.user_key, s.end) for s, _ in claimed])
        return {s.user_key for (s, _), ok in zip(judged, won, strict=True) if not ok}

    def judgement(self, state: UserFacts, terms: dict[str, list[TermsFact]]) -> Judgement:
        """Every transfer of the user judged again; an event for each verdict that changed."""
        verdicts: dict[str, VerdictState] = {}
        outbox = list(state.unsent)  # a dead claimer's events go out now, with their ids
        for t in state.transfers:
            data = t.data
            verdict = judge(
                _fact(t),
                consents=state.consents.get(data["app_id"], []),
                terms=terms.get(data["app_id"], []),
            )
            before = state.verdicts.get(t.event_id)
            if before is not None and before.verdict == verdict:
                verdicts[t.event_id] = before
                continue
            changes = 0 if before is None else before.changes + 1
            verdicts[t.event_id] = VerdictState(verdict=verdict, changes=changes)
            if before is not None:
                outbox.append(self._correction(t, verdict, before.verdict, changes))
            elif not verdict.covered:
                outbox.append(self._violation(t, verdict))
        return Judgement(verdicts=verdicts, outbox=outbox)

    def _ready(self, page: PendingPage) -> bool:
        """Has the ledger stored every consent and terms event from before the page's facts?
        (Only to spare corrections: a verdict is corrected whenever a late fact arrives.)"""
        if self._progress is None:  # replay: everything is already stored
            return True
        for work in page.users:
            moment = work.moment.timestamp()
            user = self._progress.partition(work.user_key)
            if not all(self._marks.covers((t, user), moment) for t in self._consent_topics):
                return False
            for app in work.apps:
                terms = self._progress.partition(app)
                if not all(self._marks.covers((t, terms), moment) for t in self._terms_topics):
                    return False
        return True

    async def run(self, *, interval_s: float) -> None:
        """Until cancelled."""
        while True:
            try:
                await self.run_once()
            except Exception:  # the work stays pending; the next round retries
                log.exception("judging failed")
            await asyncio.sleep(interval_s)

    def _violation(self, transfer: TransferRow, verdict: Verdict) -> bytes:
        data = transfer.data
        event = make_event(
            ViolationDetected(
                transfer_id=data["transfer_id"],
                user_key=data["user_key"],
                app_id=data["app_id"],
                consent_id=data["consent_id"],
                reason=verdict.reason or "no_consent",
                transfer_time=transfer.at,
            ),
            source="/audit",
            event_id=verdict_event_id(transfer.event_id, changes=0, verdict=verdict),
        )
        return event.to_bytes()

    def _correction(
        self, transfer: TransferRow, verdict: Verdict, before: Verdict, changes: int
    ) -> bytes:
        data = transfer.data
        event = make_event(
            VerdictCorrected(
                transfer_id=data["transfer_id"],
                user_key=data["user_key"],
                app_id=data["app_id"],
                consent_id=data["consent_id"],
                covered=verdict.covered,
                reason=verdict.reason,
                previous_reason=None if before.covered else before.reason,
                correction=changes,
                transfer_time=transfer.at,
            ),
            source="/audit",
            event_id=verdict_event_id(transfer.event_id, changes=changes, verdict=verdict),
        )
        return event.to_bytes()


def _users(page: PendingPage) -> set[str]:
    return {w.user_key for w in page.users}


def _holds(state: UserFacts, moment: datetime) -> bool:
    """Does the user's state hold a fact of this time (a page's latest one for the user)?"""
    return any(t.at == moment for t in state.transfers) or any(
        c.at == moment for facts in state.consents.values() for c in facts
    )


def _settled(state: UserFacts) -> bool:
    """Nothing arrived since the user's latest judgement, and its events went out."""
    return state.judged and not state.unsent


def _fact(t: TransferRow) -> TransferFact:
    return TransferFact(
        consent_id=t.data["consent_id"],
        scopes_used=frozenset(t.data["scopes_used"]),
        terms_version=t.data["terms_version"],
        at=t.at,
    )
