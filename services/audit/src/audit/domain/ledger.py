"""The ledger's append-only shards: one RFC 6962 tree per Kafka topic-partition.

Each entry carries the hashes of the perfect subtree nodes its append completed, so the
nodes a proof needs are stored with the entries and no tree is kept besides them. A store
reads entries back one at a time (`Entry`) or, for the full audit, in batches of consecutive
entries held field by field (`EntryBatch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from audit.domain.merkle import HASH_SIZE, CompactRange, leaf_hash


def shard_name(*, topic: str, partition: int) -> str:
    """A shard is one topic-partition: Kafka's order inside it is the ledger's order."""
    return f"{topic}/{partition}"


@dataclass(frozen=True, slots=True)
class Record:
    """An event as received, before it has a place in the ledger."""

    event_id: str
    shard: str
    offset: int
    data: bytes


@dataclass(slots=True)
class Entry:
    """An event with its place in its shard's tree and the nodes its append completed.

    Never changed once made, but not frozen: the full audit builds one per stored entry, and a
    frozen dataclass costs ~7x as much to build (3 us against 0.45 us here).
    """

    event_id: str
    shard: str
    index: int
    offset: int
    leaf: bytes
    nodes: tuple[bytes, ...]
    data: bytes


class ShardLog:
    """One shard's writable state: size, compact range and the last Kafka offset stored."""

    def __init__(self, *, shard: str, tree: CompactRange, last_offset: int = -1) -> None:
        self.shard = shard
        self._tree = tree
        self.last_offset = last_offset

    def fork(self) -> ShardLog:
        """A copy to append to; it replaces this one only once its entries are stored."""
        return ShardLog(shard=self.shard, last_offset=self.last_offset, tree=self._tree.copy())

    def seen(self, offset: int) -> bool:
        """A record at or before the last stored offset is a redelivery (Kafka order)."""
        return offset <= self.last_offset

    @property
    def size(self) -> int:
        """Entries so far."""
        return self._tree.size

    def root(self) -> bytes:
        """The current tree root."""
        return self._tree.root()

    def append(self, record: Record) -> Entry:
        """Give the record the next index; return the entry to store."""
        if record.shard != self.shard:
            raise ValueError(f"record of {record.shard} appended to {self.shard}")
        index = self._tree.size
        completed = self._tree.push(leaf_hash(record.data))
        self.last_offset = record.offset
        return Entry(
            event_id=record.event_id,
            shard=self.shard,
            index=index,
            offset=record.offset,
            leaf=completed[0],
            nodes=tuple(completed[1:]),
            data=record.data,
        )


@dataclass(frozen=True, slots=True)
class EntryBatch:
    """Consecutive entries of one shard as a store reads them, field by field (no object per
    entry: the full audit reads every entry of the ledger).

    Each entry keeps the index and offset it was stored with, so the audit judges every entry
    on its own (a deleted or reordered entry is located, not smeared over the batch).
    """

    shard: str
    event_ids: Sequence[str]
    positions: Sequence[tuple[int, int]]
    """(index, Kafka offset) of each entry."""
    hashes: Sequence[bytes]
    """Of each entry, its leaf hash and then the nodes its append completed, joined (HASH_SIZE
    bytes each): one value per entry, so a batch is cheap to make and to check."""
    data: Sequence[bytes]

    def __len__(self) -> int:
        return len(self.event_ids)

    def entry(self, k: int) -> Entry:
        """The batch's entry `k` (0 is its first)."""
        (index, offset), held = self.positions[k], self.hashes[k]
        nodes = tuple(held[at : at + HASH_SIZE] for at in range(HASH_SIZE, len(held), HASH_SIZE))
        return Entry(
            self.event_ids[k], self.shard, index, offset, held[:HASH_SIZE], nodes, self.data[k]
        )
