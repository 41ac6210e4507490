"""A fresh audit ledger in its own database: the real Mongo adapters, with their calls timed.

Store methods are timed by name when the adapter has them (the adapter's API may change), once
per outermost call; calls made inside the ingest handler are kept apart from the others (the
checkpointer and proof serving), see `Timings.scope`.
"""

from __future__ import annotations

import inspect
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pymongo.asynchronous.database import AsyncDatabase

from audit.adapters.mongo_facts import MongoFactStore, create_fact_indexes
from audit.adapters.mongo_ledger import (
    MongoCheckpointStore,
    MongoLedgerStore,
    create_ledger_indexes,
)
from audit.service.checkpoints import Checkpointer
from audit.service.ingest import LedgerIngest
from audit.verify.checkpoint import public_keys_by_id
from bench.env import BenchEnv
from shared.events import CloudEvent
from shared.kafka.consumer import MirrorHandler, Received
from shared.mongo import Document

ORIGIN = "bench.audit/ledger"
LEDGER_CALLS = ("append", "tip", "nodes", "entry")
INGEST = "ingest"
_SCOPE: ContextVar[str] = ContextVar("bench_scope", default="")
_ACTIVE: ContextVar[bool] = ContextVar("bench_timed_call", default=False)


class Timings:
    """Seconds and calls per (scope, step); the scope is "ingest" inside the ingest handler."""

    def __init__(self) -> None:
        self.seconds: defaultdict[tuple[str, str], float] = defaultdict(float)
        self.calls: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.busy: defaultdict[str, float] = defaultdict(float)
        """Per scope, the time at least one store call was in flight (calls overlap)."""
        self._in_flight: defaultdict[str, int] = defaultdict(int)
        self._busy_since: dict[str, float] = {}

    def enter(self) -> None:
        """A store call starts in the current scope."""
        scope = _SCOPE.get()
        if self._in_flight[scope] == 0:
            self._busy_since[scope] = time.perf_counter()
        self._in_flight[scope] += 1

    def leave(self) -> None:
        """A store call ends in the current scope."""
        scope = _SCOPE.get()
        self._in_flight[scope] -= 1
        if self._in_flight[scope] == 0:
            self.busy[scope] += time.perf_counter() - self._busy_since.pop(scope)

    def add(self, step: str, since: float, *, scope: str | None = None) -> None:
        """Add the time since `since` (a perf_counter value) to `step` in the current scope."""
        key = (_SCOPE.get() if scope is None else scope, step)
        self.seconds[key] += time.perf_counter() - since
        self.calls[key] += 1

    def reset(self) -> None:
        """Forget what was timed so far."""
        self.seconds.clear()
        self.calls.clear()
        self.busy.clear()

    def steps(self, scope: str) -> dict[str, float]:
        """Seconds per store step timed in `scope` (the handler itself left out)."""
        return {s: v for (sc, s), v in self.seconds.items() if sc == scope and s != "handler"}

    def mean_ms(self, step: str, scope: str = "") -> float:
        """Mean milliseconds per call of `step` (0 if never called)."""
        calls = self.calls.get((scope, step), 0)
        return 1000 * self.seconds.get((scope, step), 0.0) / calls if calls else 0.0


def _timed_method(method: Callable[..., Any], step: str, timings: Timings) -> Callable[..., Any]:
    async def timed_call(*args: Any, **kwargs: Any) -> Any:
        if _ACTIVE.get():  # called from another timed call: counted there
            return await method(*args, **kwargs)
        token, started = _ACTIVE.set(True), time.perf_counter()
        timings.enter()
        try:
            return await method(*args, **kwargs)
        finally:
            timings.leave()
            timings.add(step, started)
            _ACTIVE.reset(token)

    return timed_call


def instrument(obj: object, prefix: str, names: Iterable[str], timings: Timings) -> None:
    """Replace each named coroutine method the object has by a timed one."""
    for name in names:
        method = getattr(obj, name, None)
        if method is not None and inspect.iscoroutinefunction(method):
            setattr(obj, name, _timed_method(method, f"{prefix}.{name}", timings))


def timed_handler(handler: MirrorHandler, timings: Timings, stored: set[str]) -> MirrorHandler:
    """The ingest handler, timed as `handler` in scope "ingest"; finished ids go to `stored`."""

    async def ledger_ingest(deliveries: Sequence[Received]) -> None:
        token, started = _SCOPE.set(INGEST), time.perf_counter()
        try:
            await handler(deliveries)
        finally:
            timings.add("handler", started)
            _SCOPE.reset(token)
        stored.update(d.event.id for d in deliveries if d.event is not None)

    return ledger_ingest


class CollectingPublisher:
    """Stands in for the durable publisher: keeps checkpoint events, publishes nothing."""

    def __init__(self) -> None:
        self.events: list[CloudEvent[Any]] = []

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> None:
        """Keep the event."""
        self.events.append(event)


@dataclass
class Ledger:
    """One fresh ledger database with its stores, signing key and timings."""

    db: AsyncDatabase[Document]
    ledger: MongoLedgerStore
    facts: MongoFactStore
    checkpoints: MongoCheckpointStore
    key: Ed25519PrivateKey
    timings: Timings

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Verification keys by key id."""
        return public_keys_by_id([self.key.public_key()])

    def ingest(self, on_appended: Callable[[int], None] = lambda _: None) -> LedgerIngest:
        """The real ingest handler over this ledger."""
        return LedgerIngest(ledger=self.ledger, facts=self.facts, on_appended=on_appended)

    def checkpointer(self, ingest: LedgerIngest, *, every: int) -> Checkpointer:
        """A checkpointer wired as the service's bootstrap wires it (collecting its events)."""
        extra: dict[str, Any] = {}
        if "live_heads" in inspect.signature(Checkpointer).parameters:
            extra["live_heads"] = ingest.heads  # the adapter API in flux: use it when present
        return Checkpointer(
            ledger=self.ledger,
            store=self.checkpoints,
            publisher=CollectingPublisher(),
            key=self.key,
            origin=ORIGIN,
            every=every,
            interval_s=3600.0,
            **extra,
        )


async def fresh_ledger(env: BenchEnv, name: str) -> Ledger:
    """A new database with the ledger's and facts' indexes; store calls are timed."""
    db = env.database(name)
    await create_ledger_indexes(db)
    await create_fact_indexes(db)
    timings = Timings()
    ledger, facts = MongoLedgerStore(db), MongoFactStore(db, grace_s=2.0)
    instrument(ledger, "LedgerStore", LEDGER_CALLS, timings)
    instrument(facts, "FactStore", ("add",), timings)
    return Ledger(
        db=db,
        ledger=ledger,
        facts=facts,
        checkpoints=MongoCheckpointStore(db),
        key=Ed25519PrivateKey.generate(),
        timings=timings,
    )
