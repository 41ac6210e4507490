"""Signed checkpoints over every shard's head: every N entries or T seconds, if anything moved."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.service.ports import CheckpointStore, LedgerStore, StoredCheckpoint
from audit.service.trees import shard_head
from audit.verify.checkpoint import Checkpoint, ShardHead, checkpoint_body, sign_checkpoint
from audit.verify.encoding import b64encode
from shared.events import CloudEvent, make_event
from shared.events import audit as wire

log = logging.getLogger(__name__)


class EventPublisher(Protocol):
    """Durable publish (the shared DurablePublisher, or a fake)."""

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> Any:
        """Returns once the broker acknowledged the event."""


def checkpoint_id(checkpoint: Checkpoint) -> str:
    """A content id: the first 16 bytes of SHA-256 over the signed body, in hex."""
    body = checkpoint_body(origin=checkpoint.origin, shards=checkpoint.shards, time=checkpoint.time)
    return hashlib.sha256(body).hexdigest()[:32]


CLAIM_ATTEMPTS = 8
"""Numbers tried per checkpoint: each clash means another instance just signed one."""


class CheckpointContended(RuntimeError):
    """Other writers took every number this checkpoint tried; the next round tries again."""


class Checkpointer:
    """Signs and publishes checkpoints; `note()` counts appended entries between them.

    Each checkpoint follows the latest one in a numbered chain and covers it: per shard the
    larger of the previous signed head and this instance's own, so no shard's size ever
    shrinks from one checkpoint to the next, whichever instance signed either.
    """

    def __init__(
        self,
        *,
        ledger: LedgerStore,
        store: CheckpointStore,
        publisher: EventPublisher,
        key: Ed25519PrivateKey,
        origin: str,
        every: int,
        interval_s: float,
        live_heads: Callable[[], dict[str, ShardHead]] = dict,
        owned: Callable[[], Collection[str]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger, self._store, self._publisher = ledger, store, publisher
        self._key, self._origin, self._clock = key, origin, clock
        self._every, self._interval_s = every, interval_s
        self._live, self._owned = live_heads, owned
        self._pending = 0
        self._due = asyncio.Event()

    def note(self, appended: int) -> None:
        """Entries were appended; wake the loop once `every` have gathered."""
        self._pending += appended
        if self._pending >= self._every:
            self._due.set()

    async def checkpoint(self, *, every_shard: bool = False) -> StoredCheckpoint | None:
        """Sign the heads of all shards as the next checkpoint of the chain, store and
        publish; None if nothing moved since the latest one. `every_shard` reads the head of
        each shard from the store, owned or not (`audit-admin checkpoint` owns none)."""
        self._pending = 0
        self._due.clear()
        for _ in range(CLAIM_ATTEMPTS):
            previous = await self._store.latest()
            heads = tuple(await self.heads(previous, every_shard=every_shard))
            if not heads or (previous is not None and heads == previous.checkpoint.shards):
                return None
            now = self._clock()
            signed = sign_checkpoint(
                private_key=self._key, origin=self._origin, shards=heads, time=now
            )
            stored = StoredCheckpoint(
                checkpoint_id=checkpoint_id(signed),
                checkpoint=signed,
                signed_at=now,
                seq=(previous.seq if previous is not None else 0) + 1,
            )
            if await self._store.save(stored):
                await self._publisher.publish(make_event(_event(stored), source="/audit"))
                return stored
        raise CheckpointContended(f"{CLAIM_ATTEMPTS} checkpoint numbers were taken meanwhile")

    async def heads(
        self, previous: StoredCheckpoint | None = None, *, every_shard: bool = False
    ) -> list[ShardHead]:
        """Per shard, the larger of its head in `previous` and this instance's own (on a tie
        the signed one): from memory for the shards this instance writes, read from the
        store for the others, or, when `owned` is given, only for the shards it owns (the
        owner of any other signs that shard's progress; a head kept from before a
        rebalance is stale)."""
        signed = {h.shard: h for h in previous.checkpoint.shards} if previous else {}
        live = self._live()
        owned = None if self._owned is None or every_shard else frozenset(self._owned())
        heads = []
        for shard in sorted(set(await self._ledger.shards()) | set(signed)):
            floor = signed.get(shard)
            own = None
            if owned is None or shard in owned:
                own = live.get(shard) or await shard_head(self._ledger, shard)
            if own is None or (floor is not None and floor.size >= own.size):
                own = floor
            if own is not None:
                heads.append(own)
        return heads

    async def run(self) -> None:
        """Until cancelled: a checkpoint when `every` entries gathered or `interval_s` passed."""
        while True:
            try:
                async with asyncio.timeout(self._interval_s):
                    await self._due.wait()
            except TimeoutError:
                pass
            try:
                await self.checkpoint()
            except Exception:  # the next round tries again; nothing is lost meanwhile
                log.exception("checkpoint failed")


def _event(stored: StoredCheckpoint) -> wire.CheckpointSigned:
    cp = stored.checkpoint
    return wire.CheckpointSigned(
        origin=cp.origin,
        checkpoint_id=stored.checkpoint_id,
        signed_at=stored.signed_at,
        key_id=cp.key_id,
        signature=b64encode(cp.signature),
        shards=tuple(
            wire.ShardHead(shard=h.shard, size=h.size, root=b64encode(h.root)) for h in cp.shards
        ),
    )
