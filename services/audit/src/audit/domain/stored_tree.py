"""Roots and proofs from stored perfect nodes, without the leaves.

Pure and synchronous: list the needed nodes with ``nodes_for_*``, fetch them (e.g. in one async
query), then call ``*_from_store`` with ``get_node=node_getter(fetched)``. Node addressing as in
`audit.domain.merkle`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from audit.domain.merkle import (
    GetNode,
    NodeId,
    check_range,
    fold,
    node_ids,
    nodes_for_root,
    perfect_nodes,
    split_point,
)


def _inclusion_ranges(*, index: int, tree_size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose subtree hashes form PATH(index, D[tree_size])."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        mid = lo + split_point(hi - lo)
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
        mid = lo + split_point(hi - lo)
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


def nodes_for_inclusion(*, index: int, tree_size: int) -> list[NodeId]:
    """List the perfect nodes needed by inclusion_proof_from_store."""
    check_range(index, name="index", low=0, high=tree_size - 1)
    return node_ids(_inclusion_ranges(index=index, tree_size=tree_size))


def nodes_for_consistency(*, old_size: int, new_size: int) -> list[NodeId]:
    """List the perfect nodes needed by consistency_proof_from_store."""
    check_range(old_size, name="old size", low=0, high=new_size)
    return node_ids(_consistency_ranges(old_size=old_size, new_size=new_size))


def _hash_ranges(ranges: Iterable[tuple[int, int]], *, get_node: GetNode) -> list[bytes]:
    return [
        fold([get_node(level, index) for level, index in perfect_nodes(start=start, end=end)])
        for start, end in ranges
    ]


def root_from_store(*, tree_size: int, get_node: GetNode) -> bytes:
    """Return the root of the tree of tree_size leaves from stored perfect nodes."""
    return fold([get_node(level, index) for level, index in nodes_for_root(tree_size=tree_size)])


def inclusion_proof_from_store(*, index: int, tree_size: int, get_node: GetNode) -> list[bytes]:
    """Return the RFC 6962 inclusion proof of leaf `index` in the tree of tree_size leaves."""
    check_range(index, name="index", low=0, high=tree_size - 1)
    return _hash_ranges(_inclusion_ranges(index=index, tree_size=tree_size), get_node=get_node)


def consistency_proof_from_store(*, old_size: int, new_size: int, get_node: GetNode) -> list[bytes]:
    """Return the RFC 6962 consistency proof from old_size to new_size leaves."""
    check_range(old_size, name="old size", low=0, high=new_size)
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
