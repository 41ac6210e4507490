"""Deletion requests to apps after a revocation: durable, announced, dispatched until concluded.

`DeletionRequests` implements core's `DeletionRequester` port. `request()` returns once the
request is durable (a unique insert keyed by consent id and version, so a redelivered revocation
makes no second request); the requested event goes out before it returns or, when Kafka is away,
from the dispatcher loop as soon as it is back (the pending set is the outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from consent.service.deletion_dispatch import Dispatcher
from consent.service.deletion_ports import DeletionRequest, DeletionStore, Pending
from consent.service.webhook_body import webhook_secret
from shared.events.consent import DeletionRequested

log = logging.getLogger(__name__)
REASON = re.compile(r"[a-z][a-z_]{0,63}")


def request_id_for(*, consent_id: str, consent_version: int) -> str:
    """The request's id (also the webhook's `webhook-id`): derived, so a repeat collides."""
    digest = hashlib.sha256(f"{consent_id}\0{consent_version}".encode()).hexdigest()
    return "del_" + digest[:32]


@dataclass
class DeletionRequests:
    """The request store's front and the owner of the dispatcher loop."""

    store: DeletionStore
    dispatcher: Dispatcher
    webhook_key: bytes
    budget_s: float
    poll_s: float = 1.0
    concurrency: int = 8
    clock: Callable[[], float] = time.time
    _loop: asyncio.Task[None] | None = None
    _inflight: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    async def request(
        self,
        *,
        app_id: str,
        user_key: str,
        consent_id: str,
        consent_version: int,
        pairwise_subject: str,
        reason: str,
    ) -> str:
        """Record (once) and announce a deletion request; its id."""
        rid = request_id_for(consent_id=consent_id, consent_version=consent_version)
        now = self.clock()
        request = DeletionRequest(
            request_id=rid,
            app_id=app_id,
            user_key=user_key,
            consent_id=consent_id,
            consent_version=consent_version,
            pairwise_subject=pairwise_subject,
            reason=reason,
            requested_at=now,
            deadline=now + self.budget_s,
        )
        _check(request)  # a bad field raises here, before anything is written
        if not await self.store.add_request(request):
            if await self.store.get_outcome(rid) is not None:
                return rid  # concluded already
            request = await self.store.get_request(rid) or request
        if await self.store.add_pending(request):
            await self.dispatcher.announce(request)
        return rid

    def secret(self, app_id: str) -> str:
        """The app's webhook signing secret (derived, never stored)."""
        return webhook_secret(key=self.webhook_key, app_id=app_id)

    async def start(self) -> None:
        """Start the dispatcher loop (an owned task); pending requests are found again."""
        if self._loop is None:
            self._loop = asyncio.create_task(self.run(), name="deletion-dispatcher")

    async def stop(self) -> None:
        """Stop the loop and any attempt in flight (a cut attempt lapses after the lease)."""
        tasks = [t for t in (self._loop, *self._inflight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop, self._inflight = None, {}
        await self.dispatcher.sender.aclose()

    async def run(self) -> None:
        """Dispatch forever: every `poll_s`, step each pending request that may be due."""
        while True:
            try:
                await self.tick()
            except Exception:
                log.warning("deletion dispatch round failed; retrying", exc_info=True)
            await asyncio.sleep(self.poll_s)

    async def tick(self) -> None:
        """One round: start a step for each pending request not in flight nor known to wait."""
        pending = await self.store.pending()
        self.dispatcher.forget({p.request.request_id for p in pending})
        now = self.clock()
        for item in pending:
            rid = item.request.request_id
            if rid in self._inflight or self.dispatcher.waiting(rid, now=now):
                continue
            if len(self._inflight) >= self.concurrency:
                return
            task = asyncio.create_task(self._step(item), name=f"deletion-{rid}")
            self._inflight[rid] = task
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        for rid, known in list(self._inflight.items()):
            if known is task:
                del self._inflight[rid]

    async def _step(self, item: Pending) -> None:
        try:
            await self.dispatcher.step(item)
        except Exception:
            log.warning("deletion step failed; retrying next round", exc_info=True)


def _check(request: DeletionRequest) -> None:
    if not REASON.fullmatch(request.reason):
        raise ValueError("reason must be a short lower-case word (e.g. user, user_deleted)")
    DeletionRequested(
        user_key=request.user_key,
        app_id=request.app_id,
        request_id=request.request_id,
        consent_id=request.consent_id,
        pairwise_subject=request.pairwise_subject,
        deadline=datetime.fromtimestamp(request.deadline, UTC),
    )
