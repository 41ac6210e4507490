"""RFC 6962 hashing and the RFC 9162 inclusion/consistency proof verification algorithms.

Hashes: ``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || left || right)``, the root
of the empty tree is ``SHA-256("")``.  Verification follows RFC 9162 section 2.1.3.2
(inclusion) and 2.1.4.2 (consistency) step by step; every failure raises `ProofError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .errors import ProofError

HASH_SIZE = 32
MAX_PROOF_LENGTH = 64  # a tree with fewer than 2**63 leaves never needs more

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(*, left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def empty_root() -> bytes:
    """Return the root hash of the empty tree, SHA-256 of the empty string."""
    return hashlib.sha256(b"").digest()


def _check_size(value: int, *, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofError(f"{name} must be an integer")
    if value < 0:
        raise ProofError(f"{name} must not be negative, got {value}")


def _check_hash(value: bytes, *, name: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        length = len(value) if isinstance(value, bytes) else type(value).__name__
        raise ProofError(f"{name} must be {HASH_SIZE} bytes, got {length}")


def _check_proof(proof: Sequence[bytes]) -> None:
    if len(proof) > MAX_PROOF_LENGTH:
        raise ProofError(f"proof has {len(proof)} elements, more than {MAX_PROOF_LENGTH}")
    for i, element in enumerate(proof):
        _check_hash(element, name=f"proof element {i}")


def root_from_inclusion_proof(
    *, leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root implied by an inclusion proof (RFC 9162 2.1.3.2 steps 1-4)."""
    _check_size(index, name="index")
    _check_size(tree_size, name="tree size")
    _check_hash(leaf_hash, name="leaf hash")
    _check_proof(proof)
    if index >= tree_size:
        raise ProofError(f"index {index} is not below tree size {tree_size}")
    fn, sn = index, tree_size - 1
    result = leaf_hash
    for used, element in enumerate(proof):
        if sn == 0:
            raise ProofError(f"proof has {len(proof)} elements, only {used} expected")
        if fn & 1 or fn == sn:
            result = node_hash(left=element, right=result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(left=result, right=element)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"proof has {len(proof)} elements, too few for this index and size")
    return result


def verify_inclusion(
    *, leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that leaf_hash is at index in the tree of tree_size leaves with this root."""
    _check_hash(root, name="root")
    computed = root_from_inclusion_proof(
        leaf_hash=leaf_hash, index=index, tree_size=tree_size, proof=proof
    )
    if computed != root:
        raise ProofError("inclusion proof does not lead to the expected root")


def _check_trivial_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    if proof:
        raise ProofError(f"proof must be empty for sizes {old_size} -> {new_size}")
    if old_size == new_size and old_root != new_root:
        raise ProofError("roots differ for equal tree sizes")
    if old_size == 0 and old_root != empty_root():
        raise ProofError("old root of an empty tree must be the empty-tree hash")


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (new_size, new_root) extends (old_size, old_root) (RFC 9162)."""
    _check_size(old_size, name="old size")
    _check_size(new_size, name="new size")
    _check_hash(old_root, name="old root")
    _check_hash(new_root, name="new root")
    _check_proof(proof)
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is greater than new size {new_size}")
    if old_size in (0, new_size):
        _check_trivial_consistency(
            old_size=old_size,
            new_size=new_size,
            old_root=old_root,
            new_root=new_root,
            proof=proof,
        )
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = [old_root, *proof] if _is_power_of_two(old_size) else list(proof)
    old_computed, new_computed = _consistency_roots(old_size=old_size, new_size=new_size, path=path)
    if old_computed != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if new_computed != new_root:
        raise ProofError("consistency proof does not lead to the new root")


def _consistency_roots(*, old_size: int, new_size: int, path: list[bytes]) -> tuple[bytes, bytes]:
    """Run RFC 9162 2.1.4.2 steps 3-7 and return the computed (old, new) roots."""
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for element in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof has too many elements for these sizes")
        if fn & 1 or fn == sn:
            fr = node_hash(left=element, right=fr)
            sr = node_hash(left=element, right=sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(left=sr, right=element)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof has too few elements for these sizes")
    return fr, sr
