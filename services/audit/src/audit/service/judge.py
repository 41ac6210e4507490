"""The violation detector: judge each transfer against the consent timeline at its own time."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from audit.domain.verdict import TransferFact, Verdict, judge
from audit.domain.watermarks import Watermarks
from audit.service.checkpoints import EventPublisher
from audit.service.ports import FactStore, PendingPage, Progress, TransferRow
from shared.events import CloudEvent, make_event
from shared.events.audit import ViolationDetected
from shared.topics import AUTH_EVENTS, CONSENT_EVENTS

log = logging.getLogger(__name__)
_VIOLATIONS = uuid.UUID("6f1d0a52-8c1e-4f7e-9d2b-3a9c5e7b1f40")


def violation_event_id(transfer_event_id: str) -> str:
    """The same transfer always yields the same violation id, so a re-run is a duplicate."""
    return str(uuid.uuid5(_VIOLATIONS, transfer_event_id))


class Judge:
    """Judges due transfers, publishes violations (before the verdict is kept), repeatably.

    Transfers come in pending pages (one per ingested batch). A transfer whose consent and
    terms partitions the ledger has not yet stored past its time waits; the page goes once
    each of its transfers has a verdict. What this instance judged of a page still waiting is
    remembered while that page is due, so its violations are not published again each round;
    after a restart they may be, always with the same event id (a duplicate, not a new one).
    """

    def __init__(
        self,
        *,
        facts: FactStore,
        publisher: EventPublisher,
        progress: Progress | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._facts, self._publisher, self._clock = facts, publisher, clock
        self._progress, self._marks = progress, Watermarks()
        self._judged: set[str] = set()

    async def run_once(self, *, limit: int = 500) -> int:
        """Judge every due transfer (two reads per round); returns how many transfers were
        judged plus how many pages were done with (0: nothing to do)."""
        now = self._clock()
        if self._progress is not None:
            ends, committed = await self._progress.offsets()
            self._marks.observe(now=now.timestamp(), ends=ends, committed=committed)
        todo: dict[str, TransferRow] = {}  # a redelivery may put a transfer in two pages
        done: list[PendingPage] = []
        pages = await self._facts.due(now=now, limit=limit, judged=self._judged)
        for page in pages:
            waiting = [t for t in page.transfers if t.event_id not in self._judged]
            ready = [t for t in waiting if self._complete(t)]
            todo.update((t.event_id, t) for t in ready)
            if len(ready) == len(waiting):
                done.append(page)
        if todo:
            await self._judge(list(todo.values()))
        for page in done:
            await self._facts.forget_pending(page.page_id)
        # remember what was judged only while a page still waiting holds it
        finished = {page.page_id for page in done}
        self._judged = (self._judged | todo.keys()) & {
            t.event_id for p in pages if p.page_id not in finished for t in p.transfers
        }
        return len(todo) + len(done)

    async def _judge(self, transfers: list[TransferRow]) -> None:
        """Verdicts for these transfers, violations published before the verdicts are kept."""
        consents, terms = await self._facts.timelines(
            user_keys=[t.data["user_key"] for t in transfers],
            app_ids=[t.data["app_id"] for t in transfers],
        )
        judged = []
        for transfer in transfers:
            data = transfer.data
            fact = TransferFact(
                consent_id=data["consent_id"],
                scopes_used=frozenset(data["scopes_used"]),
                terms_version=data["terms_version"],
                at=transfer.at,
            )
            verdict = judge(
                fact,
                consents=consents.get((data["user_key"], data["app_id"]), []),
                terms=terms.get(data["app_id"], []),
            )
            if not verdict.covered:
                await self._publisher.publish(self._violation(transfer, verdict))
            judged.append((transfer, verdict))
        await self._facts.record_verdicts(judged)

    def _complete(self, transfer: TransferRow) -> bool:
        """Has the ledger stored every consent and terms event from before this transfer?"""
        if self._progress is None:  # replay: everything is already stored
            return True
        moment = transfer.at.timestamp()
        user = self._progress.partition(transfer.data["user_key"])
        app = self._progress.partition(transfer.data["app_id"])
        return self._marks.covers((CONSENT_EVENTS, user), moment) and self._marks.covers(
            (AUTH_EVENTS, app), moment
        )

    async def run(self, *, interval_s: float) -> None:
        """Until cancelled."""
        while True:
            try:
                await self.run_once()
            except Exception:  # the transfers stay pending; the next round retries
                log.exception("judging failed")
            await asyncio.sleep(interval_s)

    def _violation(self, transfer: TransferRow, verdict: Verdict) -> CloudEvent[ViolationDetected]:
        data = transfer.data
        reason = verdict.reason or "no_consent"
        return make_event(
            ViolationDetected(
                transfer_id=data["transfer_id"],
                user_key=data["user_key"],
                app_id=data["app_id"],
                consent_id=data["consent_id"],
                reason=reason,
                transfer_time=transfer.at,
            ),
            source="/audit",
            event_id=violation_event_id(transfer.event_id),
        )
