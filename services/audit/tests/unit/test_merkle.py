"""Tests of the Merkle log core: RFC 6962 vectors, compact range, store-backed proofs."""

from __future__ import annotations

import math

import pytest
from merkle_reference import (
    Node,
    append,
    consistency_proof,
    extend,
    inclusion_proof,
    root_from_leaf_hashes,
)

from audit.domain.merkle import (
    CompactRange,
    NodeId,
    empty_root,
    leaf_hash,
    node_hash,
    nodes_for_root,
)
from audit.domain.stored_tree import (
    consistency_proof_from_store,
    inclusion_proof_from_store,
    node_getter,
    nodes_for_consistency,
    nodes_for_inclusion,
    root_from_store,
)
from audit.verify.proofs import verify_consistency, verify_inclusion
from rfc6962_vectors import (
    CONSISTENCY_PROOFS,
    EMPTY_ROOT,
    INCLUSION_PROOFS,
    INPUTS,
    LEAF_VECTORS,
    NODE_VECTORS,
    ROOTS,
)

HASHES = [leaf_hash(data) for data in INPUTS]


def _hashes(n: int) -> list[bytes]:
    return [leaf_hash(b"leaf %d" % i) for i in range(n)]


def _store(hashes: list[bytes]) -> dict[NodeId, bytes]:
    tree = CompactRange()
    return {(node.level, node.index): node.hash for node in extend(tree, hashes)}


def test_hasher_vectors() -> None:
    assert empty_root().hex() == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == empty_root()
    for data, expected in LEAF_VECTORS:
        assert leaf_hash(data).hex() == expected
    for left, right, expected in NODE_VECTORS:
        assert node_hash(left=left, right=right).hex() == expected


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_reference_tree(size: int) -> None:
    expected = bytes.fromhex(ROOTS[size - 1])
    assert root_from_leaf_hashes(HASHES[:size]) == expected
    tree = CompactRange()
    extend(tree, HASHES[:size])
    assert tree.size == size
    assert tree.root() == expected
    assert root_from_store(tree_size=size, get_node=node_getter(_store(HASHES))) == expected


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_PROOFS)
def test_known_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    expected = [bytes.fromhex(h) for h in path]
    assert inclusion_proof(index=index, leaf_hashes=HASHES[:size]) == expected
    get_node = node_getter(_store(HASHES))
    assert inclusion_proof_from_store(index=index, tree_size=size, get_node=get_node) == expected


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_PROOFS)
def test_known_consistency_proofs(old: int, new: int, path: list[str]) -> None:
    expected = [bytes.fromhex(h) for h in path]
    assert consistency_proof(old_size=old, leaf_hashes=HASHES[:new]) == expected
    get_node = node_getter(_store(HASHES))
    got = consistency_proof_from_store(old_size=old, new_size=new, get_node=get_node)
    assert got == expected


# Node addresses from transparency-dev/merkle proof/proof_test.go (TestInclusion,
# TestConsistency); compared as sets since that code lists rehashed groups smallest first.
@pytest.mark.parametrize(
    ("index", "size", "ids"),
    [
        (1, 3, {(0, 0), (0, 2)}),
        (0, 7, {(0, 1), (1, 1), (0, 6), (1, 2)}),
        (4, 7, {(0, 5), (0, 6), (2, 0)}),
        (10, 15, {(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)}),
        (24, 31, {(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)}),
        (81, 95, {(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)}),
    ],
)
def test_inclusion_node_ids_match_tlog(index: int, size: int, ids: set[NodeId]) -> None:
    got = nodes_for_inclusion(index=index, tree_size=size)
    assert len(got) == len(ids)
    assert set(got) == ids


@pytest.mark.parametrize(
    ("old", "new", "ids"),
    [
        (1, 6, {(0, 1), (1, 1), (1, 2)}),
        (3, 7, {(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)}),
        (5, 7, {(0, 4), (0, 5), (0, 6), (2, 0)}),
        (7, 8, {(0, 6), (0, 7), (1, 2), (2, 0)}),
        (10, 15, {(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)}),
        (24, 31, {(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)}),
        (81, 95, {(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)}),
    ],
)
def test_consistency_node_ids_match_tlog(old: int, new: int, ids: set[NodeId]) -> None:
    got = nodes_for_consistency(old_size=old, new_size=new)
    assert len(got) == len(ids)
    assert set(got) == ids


def test_compact_range_reports_every_perfect_node_once() -> None:
    hashes = _hashes(70)
    tree = CompactRange()
    seen: dict[NodeId, bytes] = {}
    for n, h in enumerate(hashes, start=1):
        completed = append(tree, h)
        assert completed[0] == Node(0, n - 1, h)
        for node in completed:
            assert (node.level, node.index) not in seen
            seen[(node.level, node.index)] = node.hash
        assert tree.root() == root_from_leaf_hashes(hashes[:n])
        frontier = [seen[node] for node in nodes_for_root(tree_size=n)]
        assert CompactRange.from_hashes(size=n, hashes=frontier).root() == tree.root()
    expected = {
        (level, index)
        for level in range(7)
        for index in range(70 >> level)  # complete nodes only
    }
    assert set(seen) == expected
    for (level, index), h in seen.items():
        width = 1 << level
        assert h == root_from_leaf_hashes(hashes[index * width : (index + 1) * width])


def test_compact_range_resumes_from_store() -> None:
    hashes = _hashes(45)
    store = _store(hashes[:29])
    resumed = CompactRange.from_hashes(
        size=29, hashes=[store[node] for node in nodes_for_root(tree_size=29)]
    )
    assert resumed.root() == root_from_leaf_hashes(hashes[:29])
    for node in extend(resumed, hashes[29:]):
        store[(node.level, node.index)] = node.hash
    assert resumed.root() == root_from_leaf_hashes(hashes)
    assert store == _store(hashes)
    assert CompactRange.from_hashes(size=0, hashes=[]).root() == empty_root()
    with pytest.raises(ValueError, match="needs"):
        CompactRange.from_hashes(size=3, hashes=[hashes[0]])


def _only(store: dict[NodeId, bytes], *, ids: list[NodeId]) -> dict[NodeId, bytes]:
    assert len(set(ids)) == len(ids)
    return {node_id: store[node_id] for node_id in ids}


def test_store_inclusion_proofs_match_reference_for_all_sizes() -> None:
    hashes = _hashes(70)
    store = _store(hashes)
    for size in range(1, 71):
        root = root_from_leaf_hashes(hashes[:size])
        root_store = _only(store, ids=nodes_for_root(tree_size=size))
        assert root_from_store(tree_size=size, get_node=node_getter(root_store)) == root
        for index in range(size):
            ids = nodes_for_inclusion(index=index, tree_size=size)
            assert len(ids) <= 2 * math.ceil(math.log2(size)) + 1
            get_node = node_getter(_only(store, ids=ids))  # only the listed nodes are readable
            proof = inclusion_proof_from_store(index=index, tree_size=size, get_node=get_node)
            assert proof == inclusion_proof(index=index, leaf_hashes=hashes[:size])
            verify_inclusion(
                leaf_hash=hashes[index], index=index, tree_size=size, proof=proof, root=root
            )


def test_store_consistency_proofs_match_reference_for_all_pairs() -> None:
    hashes = _hashes(40)
    store = _store(hashes)
    roots = [root_from_leaf_hashes(hashes[:n]) for n in range(41)]
    for new in range(41):
        for old in range(new + 1):
            ids = nodes_for_consistency(old_size=old, new_size=new)
            get_node = node_getter(_only(store, ids=ids))
            proof = consistency_proof_from_store(old_size=old, new_size=new, get_node=get_node)
            assert proof == consistency_proof(old_size=old, leaf_hashes=hashes[:new])
            verify_consistency(
                old_size=old, new_size=new, old_root=roots[old], new_root=roots[new], proof=proof
            )


def test_invalid_arguments() -> None:
    get_node = node_getter(_store(_hashes(8)))
    with pytest.raises(ValueError, match="index"):
        inclusion_proof(index=3, leaf_hashes=_hashes(3))
    with pytest.raises(ValueError, match="index"):
        inclusion_proof_from_store(index=8, tree_size=8, get_node=get_node)
    with pytest.raises(ValueError, match="index"):
        nodes_for_inclusion(index=-1, tree_size=8)
    with pytest.raises(ValueError, match="old size"):
        consistency_proof(old_size=4, leaf_hashes=_hashes(3))
    with pytest.raises(ValueError, match="old size"):
        consistency_proof_from_store(old_size=5, new_size=4, get_node=get_node)
    with pytest.raises(KeyError, match="level=0, index=8"):
        root_from_store(tree_size=9, get_node=get_node)
    with pytest.raises(ValueError, match="leaf hash"):
        CompactRange().push(b"short")
