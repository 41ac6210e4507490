"""The full audit: recompute every shard's tree from its stored entries and name what breaks.

Anchors are signed checkpoints (their signatures checked before they get here). Inside a
checkpoint interval, stored tree nodes, leaf hashes, event ids and Kafka offsets locate a change
to the entry; a forger who rewrites all of those is still caught by the next signed root, and
located to the interval between two checkpoints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audit.domain.ledger import Entry
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


def _entry_problem(entry: Entry, *, expected: int, previous_offset: int) -> str | None:
    if entry.index != expected:
        if entry.index > expected:
            return f"entries {expected}..{entry.index - 1} are missing (deleted)"
        return f"index {entry.index} appears again (inserted or duplicated entry)"
    if leaf_hash(entry.data) != entry.leaf:
        return "stored data does not match its leaf hash (entry changed)"
    if _event_id(entry.data) != entry.event_id:
        return "stored data is not the event the entry names (entry changed or forged)"
    if entry.offset <= previous_offset:
        return (
            f"Kafka offset {entry.offset} comes after offset {previous_offset}: "
            "entries swapped, reordered or inserted"
        )
    return None


def audit_shard(shard: str, entries: Iterable[Entry], anchors: Sequence[Anchor]) -> list[Finding]:
    """Findings for one shard, in order; stops at the first, since the rest follow from it."""
    tree, previous_offset = CompactRange(), -1
    pending = sorted(anchors, key=lambda a: a.size)
    interval_start = 0
    while pending and pending[0].size == 0:  # a shard registered before its first entry
        anchor = pending.pop(0)
        if anchor.root != tree.root():
            return [
                Finding(
                    shard,
                    0,
                    None,
                    f"signed checkpoint {anchor.checkpoint_id} has a "
                    "non-empty root for an empty tree",
                )
            ]
    for entry in entries:
        problem = _entry_problem(entry, expected=tree.size, previous_offset=previous_offset)
        if problem is None:
            computed = tuple(n.hash for n in tree.append(entry.leaf)[1:])
            if computed != entry.nodes:
                problem = "stored tree nodes do not match the entries (tree rewritten)"
        if problem is not None:
            if entry.index > tree.size:  # the first missing index, not the entry after it
                return [Finding(shard, tree.size, None, problem)]
            return [Finding(shard, entry.index, entry.event_id, problem)]
        previous_offset = entry.offset
        while pending and pending[0].size == tree.size:
            anchor = pending.pop(0)
            if tree.root() != anchor.root:
                return [
                    Finding(
                        shard,
                        interval_start,
                        None,
                        f"tree of size {tree.size} does not match signed checkpoint "
                        f"{anchor.checkpoint_id}: an entry in [{interval_start}, "
                        f"{tree.size}) was changed, inserted or reordered",
                    )
                ]
            interval_start = tree.size
    if pending:
        anchor = pending[-1]
        return [
            Finding(
                shard,
                tree.size,
                None,
                f"only {tree.size} entries stored but signed checkpoint "
                f"{anchor.checkpoint_id} covers {anchor.size} (tail cut off)",
            )
        ]
    return []
