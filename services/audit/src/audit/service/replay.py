"""Replay: rebuild the ledger and the report data from Kafka, from the beginning, elsewhere.

The rebuilt roots are compared with every checkpoint the audit published (signatures checked):
equal, or the report names the checkpoint, shard and size where they part.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.config import LEDGER_TOPICS
from audit.domain.merkle import CompactRange
from audit.service.ingest import LedgerIngest
from audit.service.judge import Judge
from audit.service.ports import LedgerStore, RecordSource
from audit.verify.checkpoint import Checkpoint, ShardHead, format_time, verify_checkpoint
from audit.verify.encoding import b64decode_strict
from audit.verify.errors import CheckpointFormatError, VerifyError
from shared.events import InvalidEvent, parse
from shared.events.audit import CheckpointSigned
from shared.kafka.consumer import receive
from shared.topics import AUDIT_EVENTS


@dataclass
class ReplayReport:
    """What the replay read, rebuilt and compared."""

    events: int = 0
    unknown: int = 0
    """Records that are not events of a known type (kept as they are, or as marked entries)."""
    seconds: float = 0.0
    checkpoints: int = 0
    heads: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every published checkpoint's roots were rebuilt exactly."""
        return not self.mismatches


class DiscardingPublisher:
    """Replay judges transfers again but publishes nothing: the live audit already did."""

    async def publish(self, event: Any, *, traceparent: str | None = None) -> None:
        """Drop the event."""


async def rebuild(
    *,
    source: RecordSource,
    ingest: LedgerIngest,
    judge: Judge,
    topics: Sequence[str] = LEDGER_TOPICS,
    batch: int = 2000,
) -> ReplayReport:
    """Feed every record of every ledger topic through the ingest code, a partition's batch at
    a time (memory holds one batch, whatever the topics hold), then judge every transfer."""
    report, started = ReplayReport(), time.perf_counter()
    for topic, partition in await source.partitions(topics):
        async for records in source.read(topic, partition, batch=batch):
            received = [receive(r) for r in records]
            report.events += len(received)
            report.unknown += sum(1 for r in received if r.event is None)
            await ingest(received)
    while await judge.run_once(limit=5000):
        pass
    report.seconds = time.perf_counter() - started
    return report


async def published_checkpoints(source: RecordSource) -> list[tuple[str, Checkpoint]]:
    """Every checkpoint the audit published on audit.events, rebuilt from its event."""
    out = []
    for topic, partition in await source.partitions([AUDIT_EVENTS]):
        async for records in source.read(topic, partition):
            for record in records:
                try:
                    event = parse(record.value or b"")
                except InvalidEvent:
                    continue
                if isinstance(event.data, CheckpointSigned):
                    out.append((event.data.checkpoint_id, _checkpoint(event.data)))
    return out


def _checkpoint(data: CheckpointSigned) -> Checkpoint:
    err = CheckpointFormatError
    heads = tuple(
        ShardHead(
            shard=h.shard,
            size=h.size,
            root=b64decode_strict(h.root, what="root", size=32, error=err),
        )
        for h in data.shards
    )
    return Checkpoint(
        origin=data.origin,
        shards=heads,
        time=format_time(data.signed_at),
        key_id=data.key_id,
        signature=b64decode_strict(data.signature, what="signature", size=64, error=err),
    )


async def first_difference(stored: LedgerStore, rebuilt: LedgerStore, shard: str) -> str:
    """Where the stored and the rebuilt shard part: the first index whose entry differs."""
    old = [(e.event_id, e.leaf) async for e in stored.scan(shard)]
    new = [(e.event_id, e.leaf) async for e in rebuilt.scan(shard)]
    for index, (a, b) in enumerate(zip(old, new, strict=False)):
        if a != b:
            return f"first difference at index {index}: stored {a[0]}, rebuilt {b[0]}"
    if len(old) != len(new):
        return f"stored has {len(old)} entries, rebuilt {len(new)}"
    return "(stored and rebuilt entries agree: the checkpoint disagrees with both)"


async def prefix_roots(
    ledger: LedgerStore, wanted: Mapping[str, set[int]]
) -> dict[tuple[str, int], bytes]:
    """The root of each shard at each wanted size, from one pass over its entries."""
    roots: dict[tuple[str, int], bytes] = {}
    for shard, sizes in wanted.items():
        tree = CompactRange()
        if 0 in sizes:
            roots[(shard, 0)] = tree.root()
        async for entry in ledger.scan(shard):
            tree.push(entry.leaf)
            if tree.size in sizes:
                roots[(shard, tree.size)] = tree.root()
    return roots


async def compare(
    *,
    ledger: LedgerStore,
    checkpoints: Sequence[tuple[str, Checkpoint]],
    public_keys: Mapping[str, Ed25519PublicKey],
    report: ReplayReport,
    stored: LedgerStore | None = None,
) -> None:
    """Check each published checkpoint's signature and every shard root against the rebuild."""
    valid: list[tuple[str, Checkpoint]] = []
    for checkpoint_id, checkpoint in checkpoints:
        report.checkpoints += 1
        try:
            verify_checkpoint(checkpoint=checkpoint, public_keys=public_keys)
        except VerifyError as exc:
            report.mismatches.append(f"checkpoint {checkpoint_id}: signature invalid: {exc}")
            continue
        valid.append((checkpoint_id, checkpoint))
    wanted: dict[str, set[int]] = {}
    for _, checkpoint in valid:
        for head in checkpoint.shards:
            wanted.setdefault(head.shard, set()).add(head.size)
    roots = await prefix_roots(ledger, wanted)
    for checkpoint_id, checkpoint in valid:
        for head in checkpoint.shards:
            report.heads += 1
            root = roots.get((head.shard, head.size))
            if root is None:
                size = (await ledger.tip(head.shard)).size
                report.mismatches.append(
                    f"checkpoint {checkpoint_id}, shard {head.shard}: rebuilt {size} entries, "
                    f"signed size {head.size}"
                )
            elif root != head.root:
                where = await first_difference(stored, ledger, head.shard) if stored else ""
                report.mismatches.append(
                    f"checkpoint {checkpoint_id}, shard {head.shard}: root at size {head.size} "
                    f"differs {where}".rstrip()
                )
