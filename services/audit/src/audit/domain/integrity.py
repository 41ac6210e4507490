"""The full audit: recompute every shard's tree from its stored entries and name what breaks.

Anchors are signed checkpoints (their signatures checked before they get here). Inside a
checkpoint interval, stored tree nodes, leaf hashes, event ids and Kafka offsets locate a change
to the entry; a forger who rewrites all of those is still caught by the next signed root, and
located to the interval between two checkpoints.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256 as _sha256

from audit.domain.ledger import Entry, EntryBatch
from audit.domain.merkle import CompactRange, leaf_hash


@dataclass(frozen=True, slots=True)
class Anchor:
    """A shard's size and root as a signed checkpoint states them."""

    checkpoint_id: str
    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class Finding:
    """The first place where a shard's stored entries stop matching."""

    shard: str
    index: int
    event_id: str | None
    problem: str


def _event_id(data: bytes) -> str | None:
    try:
        value = json.loads(data).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def names_event(data: bytes, event_id: str) -> bool:
    """For well-formed JSON: True when `data` is an object whose top-level "id" is `event_id`.

    Fast path for the envelope as this system writes it (`{"specversion":"1.0","id":"..."`
    first, no escapes): with no backslash in the bytes, every key equal to "id" is spelled
    `"id"`, so if that appears once, right after the prefix, no other member can override it.
    Anything else is parsed (JSON keeps the last of duplicate keys, as ingest did). The fast
    path does not check that the rest is well-formed: ingest parsed every event, and the leaf
    hash binds the bytes; `ShardAudit` parses in full what no signed checkpoint covers yet.
    """
    if b"\\" not in data and data.count(b'"id"') == 1:
        encoded = event_id.encode()
        if b'"' not in encoded and data.startswith(_PREFIX + encoded + b'"'):
            return True
    return parsed_names_event(data, event_id)


def parsed_names_event(data: bytes, event_id: str) -> bool:
    """True when `data` parses as a JSON object whose top-level "id" is `event_id`."""
    return _event_id(data) == event_id


_PREFIX = b'{"specversion":"1.0","id":"'
_LEAF = b"\x00"  # RFC 6962 leaf prefix (leaf_hash inlined in the loop over every entry)


def _entry_problem(entry: Entry, *, expected: int, previous_offset: int) -> str | None:
    if entry.index != expected:
        if entry.index > expected:
            return f"entries {expected}..{entry.index - 1} are missing (deleted)"
        return f"index {entry.index} appears again (inserted or duplicated entry)"
    if leaf_hash(entry.data) != entry.leaf:
        return "stored data does not match its leaf hash (entry changed)"
    if not parsed_names_event(entry.data, entry.event_id):
        return "stored data is not the event the entry names (entry changed or forged)"
    if entry.offset <= previous_offset:
        return (
            f"Kafka offset {entry.offset} comes after offset {previous_offset}: "
            "entries swapped, reordered or inserted"
        )
    return None


class ShardAudit:
    """One shard's audit, fed its stored entries in order, a batch at a time (a shard need not
    fit in memory); stops at the first finding, since the rest follow from it."""

    def __init__(self, shard: str, anchors: Sequence[Anchor]) -> None:
        self.shard = shard
        self.entries = 0
        self._tree, self._previous_offset, self._interval_start = CompactRange(), -1, 0
        self._pending = sorted(anchors, key=lambda a: a.size)
        self._signed = self._pending[-1].size if self._pending else 0
        """Entries below this index are covered by a signed root; the rest are parsed in full."""
        self.finding: Finding | None = None
        while self._pending and self._pending[0].size == 0:  # registered before its first entry
            anchor = self._pending.pop(0)
            if anchor.root != self._tree.root():
                self.finding = Finding(
                    shard,
                    0,
                    None,
                    f"signed checkpoint {anchor.checkpoint_id} has a "
                    "non-empty root for an empty tree",
                )

    def feed(self, batch: EntryBatch) -> bool:
        """Check the next stored batch of entries; False once a finding is made (feed no more).

        The loop checks what `_entry_problem` checks, inline (it runs for every entry of the
        ledger); only an entry that fails is rebuilt and described.
        """
        if self.finding is not None:
            return False
        tree, pending = self._tree, self._pending
        size, previous = tree.size, self._previous_offset
        next_anchor = pending[0].size if pending else -1
        for k, (event_id, (index, offset), held, data) in enumerate(
            zip(batch.event_ids, batch.positions, batch.hashes, batch.data, strict=True)
        ):
            if (
                index != size
                or offset <= previous
                or not (names_event if index < self._signed else parsed_names_event)(data, event_id)
            ):
                self.entries += k + 1
                return self._found(batch.entry(k), expected=size, previous_offset=previous)
            computed = tree.push(_sha256(_LEAF + data).digest())
            if (computed[0] if len(computed) == 1 else b"".join(computed)) != held:
                self.entries += k + 1  # the leaf (entry changed) or a node (tree rewritten)
                return self._found(batch.entry(k), expected=size, previous_offset=previous)
            size += 1
            previous = offset
            if size == next_anchor:
                self._previous_offset = previous
                if not self._anchored():
                    self.entries += k + 1
                    return False
                next_anchor = pending[0].size if pending else -1
        self.entries += len(batch)
        self._previous_offset = previous
        return True

    def _found(self, entry: Entry, *, expected: int, previous_offset: int) -> bool:
        """Describe and record the first bad entry (at the first missing index when entries
        were deleted); one whose data, place and leaf check out has rewritten tree nodes."""
        problem = _entry_problem(entry, expected=expected, previous_offset=previous_offset)
        problem = problem or "stored tree nodes do not match the entries (tree rewritten)"
        if entry.index > expected:
            self.finding = Finding(self.shard, expected, None, problem)
        else:
            self.finding = Finding(self.shard, entry.index, entry.event_id, problem)
        return False

    def _anchored(self) -> bool:
        """At the size of the next signed checkpoints: the root must match theirs."""
        tree, pending = self._tree, self._pending
        while pending and pending[0].size == tree.size:
            anchor = pending.pop(0)
            if tree.root() != anchor.root:
                self.finding = Finding(
                    self.shard,
                    self._interval_start,
                    None,
                    f"tree of size {tree.size} does not match signed checkpoint "
                    f"{anchor.checkpoint_id}: an entry in [{self._interval_start}, "
                    f"{tree.size}) was changed, inserted or reordered",
                )
                return False
            self._interval_start = tree.size
        return True

    def stop(self, start: int, problem: str) -> None:
        """The store could not read on from `start`: the first finding, unless one came before."""
        if self.finding is None:
            self.finding = Finding(self.shard, start, None, problem)

    def finish(self) -> list[Finding]:
        """The finding, if any, once every stored entry was fed."""
        if self.finding is None and self._pending:
            anchor = self._pending[-1]
            self.finding = Finding(
                self.shard,
                self._tree.size,
                None,
                f"only {self._tree.size} entries stored but signed checkpoint "
                f"{anchor.checkpoint_id} covers {anchor.size} (tail cut off)",
            )
        return [] if self.finding is None else [self.finding]
