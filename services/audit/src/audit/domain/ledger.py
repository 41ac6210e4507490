"""The ledger's append-only shards: one RFC 6962 tree per Kafka topic-partition.

Each entry document carries the hashes of the perfect subtree nodes its append completed, so
node (level, j) lives in the entry at index (j + 1) * 2**level - 1: one write per event, and a
proof reads O(log n) entries by index instead of the whole tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.domain.merkle import CompactRange, NodeId, leaf_hash


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


@dataclass(frozen=True, slots=True)
class Entry:
    """An event with its place in its shard's tree and the nodes its append completed."""

    event_id: str
    shard: str
    index: int
    offset: int
    leaf: bytes
    nodes: tuple[bytes, ...]
    data: bytes

    def node(self, level: int) -> bytes:
        """The perfect node at `level` that this entry completed (level 0: its leaf)."""
        return self.leaf if level == 0 else self.nodes[level - 1]


class ShardLog:
    """One shard's writable state: size, compact range and the last Kafka offset stored."""

    def __init__(self, *, shard: str, tree: CompactRange, last_offset: int = -1) -> None:
        self.shard = shard
        self._tree = tree
        self.last_offset = last_offset

    def fork(self) -> ShardLog:
        """A copy to append to; it replaces this one only once its entries are stored."""
        return ShardLog(
            shard=self.shard,
            last_offset=self.last_offset,
            tree=CompactRange.from_hashes(
                size=self._tree.size, hashes=[n.hash for n in self._tree.nodes]
            ),
        )

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
        completed = self._tree.append(leaf_hash(record.data))
        self.last_offset = record.offset
        return Entry(
            event_id=record.event_id,
            shard=self.shard,
            index=index,
            offset=record.offset,
            leaf=completed[0].hash,
            nodes=tuple(n.hash for n in completed[1:]),
            data=record.data,
        )


def holder_of(node: NodeId) -> int:
    """The index of the entry that stores perfect node (level, index)."""
    level, index = node
    return ((index + 1) << level) - 1
