"""The check beside the full audit: does each shard mirror its partition's records, one to one?

The full audit proves the stored ledger is the one that was signed; this proves the signed
ledger is the whole of Kafka's record: each record of a partition has exactly one entry at its
offset (its exact bytes, or a marked entry with its SHA-256 and length), and no entry stands for
a record Kafka does not have. Offsets may skip (transaction markers), so records are compared
with entries, never with offset arithmetic. Records past both the shard's last entry and the
ledger group's committed offset are not ingested yet: counted as pending, not as findings.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from audit.domain.ledger import Entry, shard_name
from audit.domain.marks import holds
from audit.service.ports import LedgerStore, RecordSource, UnreadableEntries
from shared.logging import redact

MAX_FINDINGS = 100
"""Per shard: past this many the rest of a broken shard is counted, not listed."""


@dataclass
class MirrorReport:
    """What the comparison read and found."""

    partitions: int = 0
    records: int = 0
    entries: int = 0
    pending: int = 0
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every record read has exactly its entry, and no entry is without one."""
        return not self.findings


async def compare_with_topics(
    *,
    ledger: LedgerStore,
    source: RecordSource,
    topics: Sequence[str],
    committed: Mapping[tuple[str, int], int] | None = None,
) -> MirrorReport:
    """Walk each partition's records beside its shard's entries and name every mismatch."""
    report = MirrorReport()
    for topic, partition in await source.partitions(topics):
        report.partitions += 1
        shard = shard_name(topic=topic, partition=partition)
        done = (committed or {}).get((topic, partition), 0)
        entries = ledger.scan(shard)
        try:
            await _compare_shard(
                shard, source.read(topic, partition), entries, done=done, report=report
            )
        except UnreadableEntries as exc:  # a finding to report, not a traceback
            report.findings.append(f"{shard}: {exc}; the comparison stops there for this shard")
        finally:
            close = getattr(entries, "aclose", None)
            if close is not None:
                await close()
    return report


async def _compare_shard(
    shard: str,
    batches: AsyncGenerator[list[Any]],
    entries: AsyncIterator[Entry],
    *,
    done: int,
    report: MirrorReport,
) -> None:
    found: list[str] = []
    entry = await anext(entries, None)
    async for records in batches:
        for record in records:
            report.records += 1
            value = record.value or b""
            while entry is not None and entry.offset < record.offset:
                found.append(f"{shard} entry {entry.index}: offset {entry.offset} has no record")
                report.entries += 1
                entry = await anext(entries, None)
            if entry is not None and entry.offset == record.offset:
                report.entries += 1
                if not holds(entry.data, value):
                    found.append(
                        f"{shard} entry {entry.index}: does not hold the record at offset "
                        f"{record.offset}"
                    )
                entry = await anext(entries, None)
            elif entry is None and record.offset >= done:
                report.pending += 1
            else:
                found.append(f"{shard} offset {record.offset}: record has no entry{_id(value)}")
    while entry is not None:
        report.entries += 1
        found.append(f"{shard} entry {entry.index}: offset {entry.offset} has no record")
        entry = await anext(entries, None)
    report.findings += found[:MAX_FINDINGS]
    if len(found) > MAX_FINDINGS:
        report.findings.append(f"{shard}: {len(found) - MAX_FINDINGS} more findings")


_ID = re.compile(rb'"id"\s*:\s*"([^"\\]{1,100})"')


def _id(value: bytes) -> str:
    """The event id, when the record looks like an envelope (to name it for the reader)."""
    found = _ID.search(value[:4096])
    return f" (event {redact(found.group(1).decode(errors='replace'))})" if found else ""
