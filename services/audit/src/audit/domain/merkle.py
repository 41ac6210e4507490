"""RFC 6962 / RFC 9162 Merkle log core: reference proofs, compact range, store-backed proofs.

Node addressing: a *perfect* subtree node ``(level, index)`` covers the leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 nodes are the leaf hashes.  A node is
complete (and immutable) once the tree has ``(index + 1) * 2**level`` leaves, so a store keeps
every completed node keyed by ``(level, index)`` (`CompactRange.append` reports them).  Hashes of
the non-perfect right edge of a tree of size n are recomputed from perfect nodes, as in
tile-based transparency logs.  Store-backed functions are pure and synchronous: list the needed
nodes with ``nodes_for_*``, fetch them (e.g. in one async query), then call ``*_from_store``
with ``get_node=node_getter(fetched)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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
    "consistency_proof_from_store",
    "empty_root",
    "inclusion_proof",
    "inclusion_proof_from_store",
    "leaf_hash",
    "node_getter",
    "node_hash",
    "nodes_for_consistency",
    "nodes_for_inclusion",
    "nodes_for_root",
    "root_from_leaf_hashes",
    "root_from_store",
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


def _split(n: int) -> int:
    """Return the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_range(value: int, *, name: str, low: int, high: int) -> None:
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
    k = _split(n)
    return node_hash(
        left=root_from_leaf_hashes(hashes[:k]), right=root_from_leaf_hashes(hashes[k:])
    )


def _path(hashes: Sequence[bytes], *, index: int) -> list[bytes]:
    if len(hashes) <= 1:
        return []
    k = _split(len(hashes))
    if index < k:
        return [*_path(hashes[:k], index=index), root_from_leaf_hashes(hashes[k:])]
    return [*_path(hashes[k:], index=index - k), root_from_leaf_hashes(hashes[:k])]


def inclusion_proof(*, index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return PATH(index, D[n]) for the tree of all given leaf hashes (reference version)."""
    _check_range(index, name="index", low=0, high=len(leaf_hashes) - 1)
    return _path(leaf_hashes, index=index)


def _subproof(hashes: Sequence[bytes], *, m: int, complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [root_from_leaf_hashes(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(hashes[:k], m=m, complete=complete), root_from_leaf_hashes(hashes[k:])]
    return [*_subproof(hashes[k:], m=m - k, complete=False), root_from_leaf_hashes(hashes[:k])]


def consistency_proof(*, old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return PROOF(old_size, D[n]) for the tree of all given leaf hashes (reference version)."""
    _check_range(old_size, name="old size", low=0, high=len(leaf_hashes))
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

    @classmethod
    def from_store(cls, *, size: int, get_node: GetNode) -> CompactRange:
        """Rebuild the range of a tree of `size` leaves from stored perfect nodes."""
        ids = nodes_for_root(tree_size=size)
        return cls.from_hashes(size=size, hashes=[get_node(level, index) for level, index in ids])

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
        return _fold(self._hashes)


# --- proofs from stored perfect nodes ---


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Hash perfect subtree roots (left to right, decreasing size) into one subtree hash."""
    if not hashes:
        return empty_root()
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = node_hash(left=h, right=result)
    return result


def _perfect_nodes(*, start: int, end: int) -> list[NodeId]:
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


def _inclusion_ranges(*, index: int, tree_size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose subtree hashes form PATH(index, D[tree_size])."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()
    return ranges


def _consistency_ranges(*, old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose subtree hashes form PROOF(old_size, D[new_size])."""
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi, complete = 0, new_size, True
    while old_size != hi:
        mid = lo + _split(hi - lo)
        if old_size <= mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo, complete = mid, False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def _ids(ranges: Iterable[tuple[int, int]]) -> list[NodeId]:
    return [node for start, end in ranges for node in _perfect_nodes(start=start, end=end)]


def nodes_for_root(*, tree_size: int) -> list[NodeId]:
    """List the perfect nodes needed by root_from_store (the compact range of the tree)."""
    _check_range(tree_size, name="tree size", low=0, high=(1 << 63) - 1)
    return _perfect_nodes(start=0, end=tree_size)


def nodes_for_inclusion(*, index: int, tree_size: int) -> list[NodeId]:
    """List the perfect nodes needed by inclusion_proof_from_store."""
    _check_range(index, name="index", low=0, high=tree_size - 1)
    return _ids(_inclusion_ranges(index=index, tree_size=tree_size))


def nodes_for_consistency(*, old_size: int, new_size: int) -> list[NodeId]:
    """List the perfect nodes needed by consistency_proof_from_store."""
    _check_range(old_size, name="old size", low=0, high=new_size)
    return _ids(_consistency_ranges(old_size=old_size, new_size=new_size))


def _hash_ranges(ranges: Iterable[tuple[int, int]], *, get_node: GetNode) -> list[bytes]:
    return [
        _fold([get_node(level, index) for level, index in _perfect_nodes(start=start, end=end)])
        for start, end in ranges
    ]


def root_from_store(*, tree_size: int, get_node: GetNode) -> bytes:
    """Return the root of the tree of tree_size leaves from stored perfect nodes."""
    return _fold([get_node(level, index) for level, index in nodes_for_root(tree_size=tree_size)])


def inclusion_proof_from_store(*, index: int, tree_size: int, get_node: GetNode) -> list[bytes]:
    """Return the RFC 6962 inclusion proof of leaf `index` in the tree of tree_size leaves."""
    _check_range(index, name="index", low=0, high=tree_size - 1)
    return _hash_ranges(_inclusion_ranges(index=index, tree_size=tree_size), get_node=get_node)


def consistency_proof_from_store(*, old_size: int, new_size: int, get_node: GetNode) -> list[bytes]:
    """Return the RFC 6962 consistency proof from old_size to new_size leaves."""
    _check_range(old_size, name="old size", low=0, high=new_size)
    return _hash_ranges(
        _consistency_ranges(old_size=old_size, new_size=new_size), get_node=get_node
    )


def node_getter(nodes: Mapping[NodeId, bytes]) -> GetNode:
    """Return a get_node callable reading from a dict keyed by (level, index)."""

    def get_node(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise KeyError(f"Merkle node (level={level}, index={index}) is not available") from None

    return get_node
