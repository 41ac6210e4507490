"""Signed checkpoints over every shard's head: every N entries or T seconds, if anything moved."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
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


class Checkpointer:
    """Signs and publishes checkpoints; `note()` counts appended entries between them."""

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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger, self._store, self._publisher = ledger, store, publisher
        self._key, self._origin, self._clock = key, origin, clock
        self._every, self._interval_s, self._live = every, interval_s, live_heads
        self._pending = 0
        self._due = asyncio.Event()
        self._last: tuple[tuple[str, int], ...] = ()

    def note(self, appended: int) -> None:
        """Entries were appended; wake the loop once `every` have gathered."""
        self._pending += appended
        if self._pending >= self._every:
            self._due.set()

    async def checkpoint(self) -> StoredCheckpoint | None:
        """Sign the current heads of all shards, store and publish; None if nothing moved."""
        self._pending = 0
        self._due.clear()
        heads = await self.heads()
        sizes = tuple((h.shard, h.size) for h in heads)
        if not heads or sizes == self._last:
            return None
        now = self._clock()
        signed = sign_checkpoint(private_key=self._key, origin=self._origin, shards=heads, time=now)
        stored = StoredCheckpoint(
            checkpoint_id=checkpoint_id(signed), checkpoint=signed, signed_at=now
        )
        await self._store.save(stored)
        await self._publisher.publish(make_event(_event(stored), source="/audit"))
        self._last = sizes
        return stored

    async def heads(self) -> list[ShardHead]:
        """Per shard, its stored head: from memory for the shards this instance writes, else
        read from the store; never smaller than the last signed one (sizes only grow)."""
        live, latest = self._live(), await self._store.latest()
        signed = {h.shard: h for h in latest.checkpoint.shards} if latest else {}
        heads = []
        for shard in await self._ledger.shards():
            current = live.get(shard) or await shard_head(self._ledger, shard)
            floor = signed.get(shard)
            heads.append(floor if floor is not None and floor.size > current.size else current)
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
