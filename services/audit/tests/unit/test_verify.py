"""Tests of the RFC 9162 inclusion and consistency proof verifiers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from merkle_reference import consistency_proof, inclusion_proof, root_from_leaf_hashes

from audit.verify import (
    ProofError,
    empty_root,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

# Inputs and known-good proofs: google/certificate-transparency merkle_tree_test.cc, also in
# transparency-dev/merkle proof/verify_test.go (see test_merkle.py for the full table).
INPUTS = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243")]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
ZERO = bytes(32)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(b"entry %d" % i) for i in range(n)]


def _flip(element: bytes, *, byte: int, mask: int) -> bytes:
    changed = bytearray(element)
    changed[byte] ^= mask
    return bytes(changed)


def _proof_corruptions(proof: list[bytes], *, root: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """Yield every corrupted proof of the acceptance list (element edits only)."""
    for i, element in enumerate(proof):
        for byte, mask in ((0, 0x08), (0, 0x01), (31, 0x80), (17, 0x10)):
            yield (
                f"bit {mask:#x} of byte {byte} of element {i}",
                [*proof[:i], _flip(element, byte=byte, mask=mask), *proof[i + 1 :]],
            )
        yield f"element {i} removed", proof[:i] + proof[i + 1 :]
    for i in range(len(proof) + 1):
        for extra in (ZERO, root, SOME_HASH, empty_root(), *proof[:1]):
            yield f"element inserted at {i}", [*proof[:i], extra, *proof[i:]]


def _rejects_inclusion(**kwargs: Any) -> bool:
    try:
        verify_inclusion(**kwargs)
    except ProofError:
        return True
    return False


def _rejects_consistency(**kwargs: Any) -> bool:
    try:
        verify_consistency(**kwargs)
    except ProofError:
        return True
    return False


def _check_inclusion(
    *, index: int, size: int, proof: list[bytes], leaf: bytes, root: bytes
) -> None:
    verify_inclusion(leaf_hash=leaf, index=index, tree_size=size, proof=proof, root=root)
    base = {"leaf_hash": leaf, "index": index, "tree_size": size, "proof": proof, "root": root}
    probes: list[dict[str, Any]] = [
        {"index": index - 1},
        {"index": index + 1},
        {"index": index ^ 2},
        {"tree_size": size * 2},
        {"tree_size": size // 2},
        {"leaf_hash": leaf_hash(b"WrongLeaf")},
        {"root": empty_root()},
        {"root": SOME_HASH},
        *({"proof": bad} for _, bad in _proof_corruptions(proof, root=root)),
    ]
    accepted = [p for p in probes if not _rejects_inclusion(**{**base, **p})]
    assert accepted == []


def _check_consistency(*, old: int, new: int, proof: list[bytes], r1: bytes, r2: bytes) -> None:
    verify_consistency(old_size=old, new_size=new, old_root=r1, new_root=r2, proof=proof)
    if not proof:
        return
    base = {"old_size": old, "new_size": new, "old_root": r1, "new_root": r2, "proof": proof}
    probes: list[dict[str, Any]] = [
        {"old_size": old - 1},
        {"old_size": old + 1},
        {"old_size": old ^ 2},
        {"new_size": new * 2},
        {"new_size": new // 2},
        {"old_root": SOME_HASH},
        {"new_root": SOME_HASH},
        {"old_root": r2, "new_root": r1},
        {"proof": []},
        *({"proof": bad} for _, bad in _proof_corruptions(proof, root=r1)),
        {"proof": [*proof, r2]},
        {"proof": [r1, *proof]},
    ]
    accepted = [p for p in probes if not _rejects_consistency(**{**base, **p})]
    assert accepted == []


def test_known_inclusion_proofs_and_their_corruptions() -> None:
    hashes = [leaf_hash(d) for d in INPUTS]
    hashes += [
        leaf_hash(bytes.fromhex(h))
        for h in ("5051525354555657", "606162636465666768696a6b6c6d6e6f")
    ]
    for index, size in ((0, 8), (5, 8), (2, 3), (1, 5)):
        proof = inclusion_proof(index=index, leaf_hashes=hashes[:size])
        root = root_from_leaf_hashes(hashes[:size])
        _check_inclusion(index=index, size=size, proof=proof, leaf=hashes[index], root=root)


def test_inclusion_corruptions_rejected_for_all_small_trees() -> None:
    hashes = _leaves(40)
    for size in range(1, 41):
        root = root_from_leaf_hashes(hashes[:size])
        for index in range(size):
            proof = inclusion_proof(index=index, leaf_hashes=hashes[:size])
            _check_inclusion(index=index, size=size, proof=proof, leaf=hashes[index], root=root)


def test_consistency_corruptions_rejected_for_all_small_pairs() -> None:
    hashes = _leaves(40)
    roots = [root_from_leaf_hashes(hashes[:n]) for n in range(41)]
    for new in range(1, 41):
        for old in range(1, new + 1):
            proof = consistency_proof(old_size=old, leaf_hashes=hashes[:new])
            _check_consistency(old=old, new=new, proof=proof, r1=roots[old], r2=roots[new])


def _inclusion_shape(*, index: int, size: int) -> list[str]:
    """Sibling sides from leaf to root, from the RFC 6962 PATH recursion."""
    if size <= 1:
        return []
    k = 1 << ((size - 1).bit_length() - 1)
    if index < k:
        return [*_inclusion_shape(index=index, size=k), "R"]
    return [*_inclusion_shape(index=index - k, size=size - k), "L"]


def _consistency_shape(*, old: int, new: int, complete: bool = True) -> list[str]:
    """Element roles from the RFC 6962 SUBPROOF recursion."""
    if old == new:
        return [] if complete else ["base"]
    k = 1 << ((new - 1).bit_length() - 1)
    if old <= k:
        return [*_consistency_shape(old=old, new=k, complete=complete), "R"]
    return [*_consistency_shape(old=old - k, new=new - k, complete=False), "L"]


def test_inclusion_wrong_size_rejected_unless_indistinguishable() -> None:
    """RFC 6962 roots do not commit to the tree size: the signed checkpoint binds it.

    A bare proof checked against size +-1 is accepted exactly when both trees have the same
    proof shape (then no verifier can tell them apart); every other wrong size is rejected.
    """
    hashes = _leaves(41)
    roots = [root_from_leaf_hashes(hashes[:n]) for n in range(42)]
    accepted = 0
    for size in range(1, 41):
        for index in range(size):
            proof = inclusion_proof(index=index, leaf_hashes=hashes[:size])
            shape = _inclusion_shape(index=index, size=size)
            for wrong in (size - 1, size + 1):
                same = index < wrong and shape == _inclusion_shape(index=index, size=wrong)
                kwargs = {"leaf_hash": hashes[index], "index": index, "proof": proof}
                assert _rejects_inclusion(**kwargs, tree_size=wrong, root=roots[size]) != same
                accepted += same
    assert accepted > 0  # e.g. leaf 0 of 8 has the same path shape in a tree of 7:
    proof = inclusion_proof(index=0, leaf_hashes=hashes[:8])
    verify_inclusion(leaf_hash=hashes[0], index=0, tree_size=7, proof=proof, root=roots[8])


def test_consistency_wrong_size_rejected_unless_indistinguishable() -> None:
    """Old size +-1 is always rejected; new size +-1 only when the proof shape is identical."""
    hashes = _leaves(41)
    roots = [root_from_leaf_hashes(hashes[:n]) for n in range(42)]
    for size in range(2, 41):
        for old in range(1, size):
            proof = consistency_proof(old_size=old, leaf_hashes=hashes[:size])
            shape = _consistency_shape(old=old, new=size)
            rs = {"old_root": roots[old], "new_root": roots[size], "proof": proof}
            for o in (old - 1, old + 1):
                assert _rejects_consistency(old_size=o, new_size=size, **rs)
            for n in (size - 1, size + 1):
                same = old < n and shape == _consistency_shape(old=old, new=n)
                assert _rejects_consistency(old_size=old, new_size=n, **rs) != same


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_invalid_inclusion_parameters(index: int, size: int) -> None:
    for leaf, root in ((SOME_HASH, empty_root()), (SOME_HASH, b""), (b"", empty_root())):
        assert _rejects_inclusion(leaf_hash=leaf, index=index, tree_size=size, proof=[], root=root)


def test_single_leaf_inclusion() -> None:
    h = leaf_hash(b"data")
    verify_inclusion(leaf_hash=h, index=0, tree_size=1, proof=[], root=h)
    assert _rejects_inclusion(leaf_hash=h, index=0, tree_size=1, proof=[], root=b"")
    assert _rejects_inclusion(leaf_hash=b"", index=0, tree_size=1, proof=[], root=h)


def test_trivial_consistency_cases() -> None:
    # Adapted from transparency-dev/merkle TestVerifyConsistency: roots must be 32 bytes and
    # the "old" root of an empty tree must be the empty-tree hash.
    r1, r2, e = SOME_HASH, ZERO, empty_root()
    Case = tuple[int, int, bytes, bytes, list[bytes]]
    ok: list[Case] = [(0, 0, e, e, []), (0, 1, e, r2, []), (1, 1, r2, r2, [])]
    bad: list[Case] = [
        (0, 0, e, r2, []),
        (1, 1, r1, r2, []),
        (1, 0, r1, r2, []),
        (2, 1, r1, r2, []),
        (1, 2, r1, r2, []),
        (0, 1, r1, r2, []),
        (0, 0, e, e, [e]),
        (0, 1, e, e, [e]),
        (1, 1, e, e, [e]),
    ]
    for old, new, a, b, proof in ok:
        verify_consistency(old_size=old, new_size=new, old_root=a, new_root=b, proof=proof)
    for old, new, a, b, proof in bad:
        assert _rejects_consistency(old_size=old, new_size=new, old_root=a, new_root=b, proof=proof)


def test_malformed_arguments_rejected_with_reason() -> None:
    hashes = _leaves(5)
    root = root_from_leaf_hashes(hashes)
    proof = inclusion_proof(index=1, leaf_hashes=hashes)
    base: dict[str, Any] = {"leaf_hash": hashes[1], "index": 1, "tree_size": 5, "root": root}
    with pytest.raises(ProofError, match="proof element 2 must be 32 bytes, got 33"):
        verify_inclusion(**base, proof=[*proof[:2], proof[2] + b"\x00"])
    with pytest.raises(ProofError, match="proof element 0 must be 32 bytes, got 31"):
        verify_inclusion(**base, proof=[proof[0][:31], *proof[1:]])
    with pytest.raises(ProofError, match="index must be an integer"):
        verify_inclusion(**{**base, "index": True}, proof=proof)
    with pytest.raises(ProofError, match="not below tree size"):
        verify_inclusion(**{**base, "index": 5}, proof=proof)
    with pytest.raises(ProofError, match="more than 64"):
        verify_inclusion(**base, proof=[ZERO] * 65)
    with pytest.raises(ProofError, match="too few"):
        verify_inclusion(**base, proof=proof[:2])
    with pytest.raises(ProofError, match="only 3 expected"):
        verify_inclusion(**base, proof=[*proof, ZERO])
    with pytest.raises(ProofError, match="greater than new size"):
        verify_consistency(old_size=3, new_size=2, old_root=root, new_root=root, proof=[])
