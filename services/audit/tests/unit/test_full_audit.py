"""The full audit through the ledger port alone: entries in batches, no chunk format."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.domain.ledger import Entry, EntryBatch, Record, ShardLog
from audit.domain.merkle import CompactRange
from audit.service.integrity import full_audit
from audit.service.ports import StoredCheckpoint, UnreadableEntries
from audit.verify.checkpoint import ShardHead, public_keys_by_id, sign_checkpoint
from audit_testing import entry_batch

SHARD = "s/0"
KEY = Ed25519PrivateKey.generate()


class FakeLedger:
    """Entries held in memory, read back in batches of three; unreadable from `broken` on."""

    def __init__(self, entries: Sequence[Entry], *, broken: int | None = None) -> None:
        self.entries, self.broken = list(entries), broken

    async def shards(self) -> list[str]:
        return [SHARD]

    async def batches(self, shard: str) -> AsyncGenerator[EntryBatch]:
        for start in range(0, len(self.entries), 3):
            if self.broken is not None and start + 3 > self.broken:
                raise UnreadableEntries(self.broken, f"entries from {self.broken} are damaged")
            yield entry_batch(self.entries[start : start + 3])


class FakeCheckpoints:
    def __init__(self, log: ShardLog) -> None:
        head = ShardHead(shard=SHARD, size=log.size, root=log.root())
        signed = sign_checkpoint(private_key=KEY, origin="t", shards=[head], time=datetime.now(UTC))
        self.stored = [StoredCheckpoint("cp1", signed, datetime.now(UTC), seq=1)]

    async def all(self) -> list[StoredCheckpoint]:
        return self.stored


def ledger_of(count: int) -> tuple[ShardLog, list[Entry]]:
    log = ShardLog(shard=SHARD, tree=CompactRange())
    data = [json.dumps({"id": f"e{i}"}).encode() for i in range(count)]
    return log, [log.append(Record(f"e{i}", SHARD, 10 + i, d)) for i, d in enumerate(data)]


async def test_a_store_that_yields_entry_batches_is_audited_in_full() -> None:
    log, entries = ledger_of(10)
    keys = public_keys_by_id([KEY.public_key()])
    result = await full_audit(
        ledger=FakeLedger(entries),  # type: ignore[arg-type]
        checkpoints=FakeCheckpoints(log),  # type: ignore[arg-type]
        public_keys=keys,
    )
    assert (result.ok, result.entries, result.shards) == (True, 10, 1)


async def test_entries_the_store_cannot_read_are_the_finding_at_their_index() -> None:
    log, entries = ledger_of(10)
    keys = public_keys_by_id([KEY.public_key()])
    result = await full_audit(
        ledger=FakeLedger(entries, broken=7),  # type: ignore[arg-type]
        checkpoints=FakeCheckpoints(log),  # type: ignore[arg-type]
        public_keys=keys,
    )
    [finding] = result.findings
    assert (finding.shard, finding.index, finding.event_id) == (SHARD, 7, None)
    assert finding.problem == "entries from 7 are damaged"
    assert result.entries == 6
