"""The RFC 6962 reference computations over a full list of leaf hashes, and the compact
range's completed nodes with their addresses: oracles for the tests of the Merkle core,
the stored-node proofs and the verifier (the service itself never holds every leaf)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audit.domain.merkle import CompactRange, check_range, empty_root, node_hash, split_point


@dataclass(frozen=True, slots=True)
class Node:
    """A completed perfect subtree node."""

    level: int
    index: int
    hash: bytes


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the given leaf hashes (RFC 6962 section 2.1)."""
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
    """PATH(index, D[n]) for the tree of all given leaf hashes."""
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
    """PROOF(old_size, D[n]) for the tree of all given leaf hashes."""
    check_range(old_size, name="old size", low=0, high=len(leaf_hashes))
    if old_size in (0, len(leaf_hashes)):
        return []
    return _subproof(leaf_hashes, m=old_size, complete=True)


def append(tree: CompactRange, leaf_hash: bytes) -> list[Node]:
    """Append a leaf hash; every node it completes with its address, the leaf itself first."""
    index = tree.size
    return [Node(level, index >> level, h) for level, h in enumerate(tree.push(leaf_hash))]


def extend(tree: CompactRange, leaf_hashes: Iterable[bytes]) -> list[Node]:
    """Append several leaf hashes; all nodes they complete, in order."""
    return [node for h in leaf_hashes for node in append(tree, h)]
