"""The dispatcher's one step for one pending request: claim the next attempt, send, judge, conclude.

Every race is a unique insert: attempt n is claimed by inserting claim `(request, n)`, its result
is one insert, the outcome one insert. Results are immutable, so each instance caches how far a
request got (`_known`) and reads only what it does not know. A claim with no result after the
lease was lost with its instance: any instance records it as lost and claims the next attempt.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from consent.service.deletion_ports import (
    AttemptResult,
    Claim,
    DeletionRequest,
    DeletionStore,
    Delivery,
    EventPublisher,
    Pending,
    RecordedOutcome,
    WebhookSender,
    WebhookTargets,
)
from consent.service.webhook_body import webhook_body
from shared.events import make_event
from shared.events.consent import DeletionOutcomeRecorded, DeletionRequested
from shared.kafka.publisher import PublishFailed
from shared.settings import check_key_url

log = logging.getLogger(__name__)
RETRYABLE_4XX = frozenset({408, 425, 429})  # "not now", not "no"
EVENT_IDS = uuid.UUID("5d0c8f3e-4b7a-4f43-9a57-6f2b1c1de1e7")
NO_WEBHOOK = "the app has declared no deletion webhook"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, within a budget; claims lapse after the lease."""

    budget_s: float
    base_s: float
    cap_s: float
    jitter: float
    lease_s: float

    def gap(self, attempt: int, *, rng: random.Random) -> float:
        """The wait after failed attempt `attempt` (1-based)."""
        full: float = min(self.cap_s, self.base_s * 2.0 ** min(attempt - 1, 60))
        return full * (1.0 - self.jitter * rng.random())


def event_id(request_id: str, kind: str) -> str:
    """A stable event id per request and kind, so a re-publish is a duplicate consumers drop."""
    return str(uuid.uuid5(EVENT_IDS, f"{request_id}/{kind}"))


@dataclass
class Dispatcher:
    """Moves pending requests on; one instance or many on one database."""

    store: DeletionStore
    targets: WebhookTargets
    sender: WebhookSender
    publisher: EventPublisher
    secret_for: Callable[[str], str]
    policy: RetryPolicy
    source: str
    development: bool
    announce_grace_s: float = 10.0
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)
    _known: dict[str, tuple[int, float]] = field(default_factory=dict)
    _unpublished: set[str] = field(default_factory=set)

    def waiting(self, request_id: str, *, now: float) -> bool:
        """Whether this instance knows the request has nothing due yet (no I/O)."""
        known = self._known.get(request_id)
        return known is not None and known[1] > now

    def forget(self, keep: set[str]) -> None:
        """Drop what is cached about requests no longer pending."""
        for request_id in set(self._known) - keep:
            del self._known[request_id]
        self._unpublished &= keep

    async def announce(self, request: DeletionRequest) -> bool:
        """Publish `consent.deletion_requested.v1` (stable id) and flag it; False if not acked."""
        data = DeletionRequested(
            user_key=request.user_key,
            app_id=request.app_id,
            request_id=request.request_id,
            consent_id=request.consent_id,
            pairwise_subject=request.pairwise_subject,
            deadline=_utc(request.deadline),
        )
        event = make_event(
            data, source=self.source, event_id=event_id(request.request_id, "requested")
        )
        try:
            await self.publisher.publish(event)
        except PublishFailed as exc:
            log.warning("deletion request not announced yet", extra={"error": str(exc)})
            return False
        await self.store.mark_announced(request.request_id)
        return True

    async def step(self, pending: Pending) -> None:
        """Do whatever is due for one pending request."""
        request, now = pending.request, self.clock()
        if not pending.announced:
            if now - request.requested_at < self.announce_grace_s:
                return  # `request()` may still be publishing it
            if not await self.announce(request):
                return
        outcome = await self.store.get_outcome(request.request_id)
        if outcome is not None:
            await self._publish_again(request, outcome, now=now)
            return
        await self._advance(request)

    async def _publish_again(
        self, request: DeletionRequest, outcome: RecordedOutcome, *, now: float
    ) -> None:
        # Its recorder failed to publish it (this instance: retry now; another: after the
        # lease). The pending list may be a stale read, so ask again before publishing.
        mine = request.request_id in self._unpublished
        if not mine and outcome.recorded_at + self.policy.lease_s > now:
            return
        if await self.store.is_pending(request.request_id):
            await self._publish_outcome(request, outcome)

    async def _advance(self, request: DeletionRequest) -> None:
        rid = request.request_id
        attempt, due = self._known.get(rid, (1, request.requested_at))
        while True:
            now = self.clock()
            if due > now:
                self._known[rid] = (attempt, due)
                return
            result = await self.store.get_result(rid, attempt)
            if result is not None:
                if result.next_due_at is None:
                    await self._conclude(request, result)
                    return
                attempt, due = attempt + 1, result.next_due_at
                continue
            claim = await self.store.get_claim(rid, attempt)
            if claim is None:
                await self._attempt(request, attempt)
                return
            if claim.claimed_at + self.policy.lease_s > now:
                return  # another instance is sending it
            await self.store.add_result(self._lost(request, claim, now=now))

    async def _attempt(self, request: DeletionRequest, attempt: int) -> None:
        rid, started = request.request_id, self.clock()
        target = await self.targets.target(request.app_id)
        url_error = NO_WEBHOOK if target is None else self._refused_url(target.url)
        if not await self.store.claim(Claim(rid, attempt, self.owner, started)):
            return
        if target is None or url_error:
            result = replace(
                _concluding(request, attempt, started=started, now=self.clock()),
                outcome="no_answer",
                detail=url_error,
            )
        else:
            delivery = await self.sender.send(
                url=target.url,
                secret=self.secret_for(request.app_id),
                message_id=rid,
                body=webhook_body(request),
            )
            result = self._judge(request, attempt, started=started, delivery=delivery)
        if not await self.store.add_result(result):
            return  # recorded as lost meanwhile: the next attempt is another's
        if result.next_due_at is None:
            await self._conclude(request, result)
        else:
            self._known[rid] = (attempt + 1, result.next_due_at)

    def _refused_url(self, url: str) -> str:
        try:
            check_key_url(url, development=self.development, name="deletion webhook URL")
        except ValueError as exc:
            # the rule only: the URL may carry the app's own token and the detail is kept forever
            return str(exc).split(", not ", 1)[0][:400]
        return ""

    def _judge(
        self, request: DeletionRequest, attempt: int, *, started: float, delivery: Delivery
    ) -> AttemptResult:
        now, code = self.clock(), delivery.status_code
        base = replace(
            _concluding(request, attempt, started=started, now=now),
            status_code=code,
            error=delivery.error,
        )
        if code is not None and 200 <= code < 300:
            return replace(base, outcome="confirmed", detail=f"HTTP {code}")
        if code is not None and 400 <= code < 500 and code not in RETRYABLE_4XX:
            return replace(base, outcome="refused", detail=f"HTTP {code}")
        due = now + self.policy.gap(attempt, rng=self.rng)
        if due >= request.deadline:
            last = f"HTTP {code}" if code is not None else delivery.error
            detail = f"retry budget spent after {attempt} attempts; last: {last}"
            return replace(base, outcome="no_answer", detail=detail[:500])
        return replace(base, next_due_at=due)

    def _lost(self, request: DeletionRequest, claim: Claim, *, now: float) -> AttemptResult:
        error = "lost: no result within the claim lease (its instance stopped)"
        base = replace(
            _concluding(request, claim.attempt, started=claim.claimed_at, now=now), error=error
        )
        if now >= request.deadline:
            detail = f"retry budget spent after {claim.attempt} attempts; last: {error}"
            return replace(base, outcome="no_answer", detail=detail)
        return replace(base, next_due_at=now)

    async def _conclude(self, request: DeletionRequest, result: AttemptResult) -> None:
        outcome = RecordedOutcome(
            request_id=request.request_id,
            outcome=result.outcome or "no_answer",
            detail=result.detail,
            recorded_at=self.clock(),
            owner=self.owner,
        )
        if await self.store.add_outcome(outcome):
            await self._publish_outcome(request, outcome)

    async def _publish_outcome(self, request: DeletionRequest, outcome: RecordedOutcome) -> None:
        data = DeletionOutcomeRecorded(
            user_key=request.user_key,
            app_id=request.app_id,
            request_id=request.request_id,
            outcome=outcome.outcome,
            detail=outcome.detail,
        )
        event = make_event(
            data, source=self.source, event_id=event_id(request.request_id, "outcome")
        )
        try:
            await self.publisher.publish(event)
        except PublishFailed as exc:
            log.warning("deletion outcome not published yet", extra={"error": str(exc)})
            self._unpublished.add(request.request_id)
            return
        await self.store.remove_pending(request.request_id)
        self._known.pop(request.request_id, None)
        self._unpublished.discard(request.request_id)


def _concluding(
    request: DeletionRequest, attempt: int, *, started: float, now: float
) -> AttemptResult:
    return AttemptResult(
        request_id=request.request_id,
        attempt=attempt,
        started_at=started,
        finished_at=now,
        status_code=None,
        error="",
        next_due_at=None,
        outcome=None,
    )


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
