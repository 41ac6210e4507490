"""RFC 6962 / RFC 9162 Merkle log core: reference proofs and the compact range.

Node addressing: a *perfect* subtree node ``(level, index)`` covers the leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 nodes are the leaf hashes.  A node is
complete (and immutable) once the tree has ``(index + 1) * 2**level`` leaves, so a store keeps
every completed node keyed by ``(level, index)`` (`CompactRange.append` reports them).  Hashes of
the non-perfect right edge of a tree of size n are recomputed from perfect nodes, as in
tile-based transparency logs (`audit.domain.stored_tree` builds proofs from stored nodes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256 as _sha256

from audit.verify.proofs import HASH_SIZE, empty_root, leaf_hash, node_hash

__all__ = [
    "HASH_SIZE",
    "CompactRange",
    "GetNode",
    "Node",
    "NodeId",
    "consistency_proof",
    "empty_root",
    "inclusion_proof",
    "leaf_hash",
    "nodes_for_root",
    "node_hash",
    "root_from_leaf_hashes",
]

_NODE = b"\x01"  # RFC 6962 interior node prefix (node_hash inlined where it runs per entry)

NodeId = tuple[int, int]
"""A perfect subtree node address: (level, index)."""

GetNode = Callable[[int, int], bytes]
"""Returns the hash of the perfect node (level, index); level 0 are leaf hashes."""


@dataclass(frozen=True, slots=True)
class Node:
    """A completed perfect subtree node."""

    level: int
    index: int
    hash: bytes


def split_point(n: int) -> int:
    """Return the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def check_range(value: int, *, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")


# --- reference implementation over the full list of leaf hashes (RFC 6962 section 2.1) ---


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[n]) of the given leaf hashes (RFC 6962 section 2.1)."""
    n = len(hashes)
    if n == 0:
        return empty_root()
    if n == 1:
        return hashes[0]
    k = split_point(n)
    return node_hash(
        left=root_from_leaf_hashes(hashes[:k]), right=root_from_leaf_hashes(hashes[k:])
    )


def _path(hashes: Sequence[bytes], *, index: int) -> list[bytes]:
    if len(hashes) <= 1:
        return []
    k = split_point(len(hashes))
    if index < k:
        return [*_path(hashes[:k], index=index), root_from_leaf_hashes(hashes[k:])]
    return [*_path(hashes[k:], index=index - k), root_from_leaf_hashes(hashes[:k])]


def inclusion_proof(*, index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return PATH(index, D[n]) for the tree of all given leaf hashes (reference version)."""
    check_range(index, name="index", low=0, high=len(leaf_hashes) - 1)
    return _path(leaf_hashes, index=index)


def _subproof(hashes: Sequence[bytes], *, m: int, complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [root_from_leaf_hashes(hashes)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(hashes[:k], m=m, complete=complete), root_from_leaf_hashes(hashes[k:])]
    return [*_subproof(hashes[k:], m=m - k, complete=False), root_from_leaf_hashes(hashes[:k])]


def consistency_proof(*, old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return PROOF(old_size, D[n]) for the tree of all given leaf hashes (reference version)."""
    check_range(old_size, name="old size", low=0, high=len(leaf_hashes))
    if old_size in (0, len(leaf_hashes)):
        return []
    return _subproof(leaf_hashes, m=old_size, complete=True)


# --- incremental frontier ---


class CompactRange:
    """The roots of the perfect subtrees covering leaves [0, size), largest first.

    Kept as bare hashes: the frontier has one node per set bit of the size, so levels and
    indices follow from the size (this runs once per ingested and per audited entry).
    """

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, *, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Rebuild the range of a tree of `size` leaves from the hashes of nodes_for_root."""
        ids = nodes_for_root(tree_size=size)
        if len(hashes) != len(ids) or any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError(f"a tree of size {size} needs {len(ids)} hashes of {HASH_SIZE} bytes")
        result = cls()
        result._size = size
        result._hashes = list(hashes)
        return result

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def nodes(self) -> tuple[Node, ...]:
        """The frontier nodes, left to right (decreasing level)."""
        ids = nodes_for_root(tree_size=self._size)
        return tuple(Node(lv, i, h) for (lv, i), h in zip(ids, self._hashes, strict=True))

    def copy(self) -> CompactRange:
        """An independent copy to append to."""
        result = CompactRange()
        result._size, result._hashes = self._size, list(self._hashes)
        return result

    def push(self, leaf_hash: bytes) -> list[bytes]:
        """Append a leaf hash; return the hashes of the nodes it completes, the leaf first
        (item i is the node at level i)."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
        completed, node, size, frontier = [leaf_hash], leaf_hash, self._size, self._hashes
        while size & 1:
            node = _sha256(_NODE + frontier.pop() + node).digest()
            completed.append(node)
            size >>= 1
        frontier.append(node)
        self._size += 1
        return completed

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Append a leaf hash; return every node it completes, the leaf itself first."""
        index = self._size
        return [Node(level, index >> level, h) for level, h in enumerate(self.push(leaf_hash))]

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[Node]:
        """Append several leaf hashes; return all nodes they complete, in order."""
        return [node for h in leaf_hashes for node in self.append(h)]

    def root(self) -> bytes:
        """Return the Merkle tree hash of the current tree."""
        return fold(self._hashes)


# --- proofs from stored perfect nodes ---


def fold(hashes: Sequence[bytes]) -> bytes:
    """Hash perfect subtree roots (left to right, decreasing size) into one subtree hash."""
    if not hashes:
        return empty_root()
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = node_hash(left=h, right=result)
    return result


def perfect_nodes(*, start: int, end: int) -> list[NodeId]:
    """Split the subtree [start, end) into perfect nodes, largest first.

    `start` must be a multiple of the smallest power of two >= end - start, which holds for
    every subtree of the RFC 6962 recursion.
    """
    ids: list[NodeId] = []
    width, pos = end - start, start
    for level in reversed(range(width.bit_length())):
        if width >> level & 1:
            ids.append((level, pos >> level))
            pos += 1 << level
    return ids


def nodes_for_root(*, tree_size: int) -> list[NodeId]:
    """List the perfect nodes needed by root_from_store (the compact range of the tree)."""
    check_range(tree_size, name="tree size", low=0, high=(1 << 63) - 1)
    return perfect_nodes(start=0, end=tree_size)


def node_ids(ranges: Iterable[tuple[int, int]]) -> list[NodeId]:
    return [node for start, end in ranges for node in perfect_nodes(start=start, end=end)]
