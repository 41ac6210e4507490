"""RFC 6962 / RFC 9162 Merkle log core: node addressing and the compact range.

Node addressing: a *perfect* subtree node ``(level, index)`` covers the leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 nodes are the leaf hashes.  A node is
complete (and immutable) once the tree has ``(index + 1) * 2**level`` leaves, so a store keeps
every completed node keyed by ``(level, index)`` (`CompactRange.push` returns them).  Hashes of
the non-perfect right edge of a tree of size n are recomputed from perfect nodes, as in
tile-based transparency logs (`audit.domain.stored_tree` builds proofs from stored nodes).
The reference computations over every leaf, which the service never holds, are the tests'
oracle (`tests/merkle_reference.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from hashlib import sha256 as _sha256

from audit.verify.proofs import HASH_SIZE, empty_root, leaf_hash, node_hash

__all__ = [
    "HASH_SIZE",
    "CompactRange",
    "GetNode",
    "NodeId",
    "empty_root",
    "leaf_hash",
    "nodes_for_root",
    "node_hash",
]

_NODE = b"\x01"  # RFC 6962 interior node prefix (node_hash inlined where it runs per entry)

NodeId = tuple[int, int]
"""A perfect subtree node address: (level, index)."""

GetNode = Callable[[int, int], bytes]
"""Returns the hash of the perfect node (level, index); level 0 are leaf hashes."""


def split_point(n: int) -> int:
    """Return the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def check_range(value: int, *, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")


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
