"""Strict parsing, serialisation and verification of the audit API's proof responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .checkpoint import Checkpoint, checkpoint_from_dict, checkpoint_to_dict, verify_checkpoint
from .encoding import (
    b64decode_strict,
    b64encode,
    exact_object,
    get_hash_list,
    get_shard,
    get_str,
    get_uint,
)
from .errors import ProofError, ProofFormatError
from .proofs import HASH_SIZE, MAX_PROOF_LENGTH, leaf_hash, verify_consistency, verify_inclusion

_ENTRY_FIELDS = frozenset({"id", "shard", "index", "leaf_hash", "data"})
_INCLUSION_FIELDS = frozenset({"entry", "proof"})
_CONSISTENCY_FIELDS = frozenset({"old", "new", "shard", "proof"})


@dataclass(frozen=True)
class Entry:
    """One log entry: its position, leaf hash and exact stored canonical bytes."""

    id: str
    shard: str
    index: int
    leaf_hash: bytes
    data: bytes


@dataclass(frozen=True)
class InclusionResponse:
    """An entry, its inclusion proof and (normally) the checkpoint the proof is for."""

    entry: Entry
    proof: tuple[bytes, ...]
    checkpoint: Checkpoint | None


@dataclass(frozen=True)
class ConsistencyResponse:
    """Two checkpoints and a consistency proof between their heads of one shard."""

    old: Checkpoint
    new: Checkpoint
    shard: str
    proof: tuple[bytes, ...]


def _entry_from_dict(value: object) -> Entry:
    err, what = ProofFormatError, "entry"
    obj = exact_object(value, what=what, required=_ENTRY_FIELDS, error=err)
    return Entry(
        id=get_str(obj, key="id", what=what, error=err),
        shard=get_shard(obj, key="shard", what=what, error=err),
        index=get_uint(obj, key="index", what=what, error=err),
        leaf_hash=b64decode_strict(
            obj["leaf_hash"], what="entry.leaf_hash", size=HASH_SIZE, error=err
        ),
        data=b64decode_strict(obj["data"], what="entry.data", size=None, error=err),
    )


def _proof(obj: Mapping[str, object], *, what: str) -> tuple[bytes, ...]:
    return get_hash_list(
        obj, key="proof", what=what, max_items=MAX_PROOF_LENGTH, error=ProofFormatError
    )


def parse_inclusion_response(value: object) -> InclusionResponse:
    """Parse an inclusion response dict; the "checkpoint" member may be absent."""
    obj = exact_object(
        value,
        what="inclusion response",
        required=_INCLUSION_FIELDS,
        optional=frozenset({"checkpoint"}),
        error=ProofFormatError,
    )
    checkpoint = checkpoint_from_dict(obj["checkpoint"]) if "checkpoint" in obj else None
    return InclusionResponse(
        entry=_entry_from_dict(obj["entry"]),
        proof=_proof(obj, what="inclusion response"),
        checkpoint=checkpoint,
    )


def parse_consistency_response(value: object) -> ConsistencyResponse:
    """Parse a consistency response dict."""
    what = "consistency response"
    obj = exact_object(value, what=what, required=_CONSISTENCY_FIELDS, error=ProofFormatError)
    return ConsistencyResponse(
        old=checkpoint_from_dict(obj["old"]),
        new=checkpoint_from_dict(obj["new"]),
        shard=get_shard(obj, key="shard", what=what, error=ProofFormatError),
        proof=_proof(obj, what=what),
    )


def inclusion_response_to_dict(response: InclusionResponse) -> dict[str, object]:
    """Return the JSON-ready dict form of an inclusion response."""
    entry = response.entry
    result: dict[str, object] = {
        "entry": {
            "id": entry.id,
            "shard": entry.shard,
            "index": entry.index,
            "leaf_hash": b64encode(entry.leaf_hash),
            "data": b64encode(entry.data),
        },
        "proof": [b64encode(element) for element in response.proof],
    }
    if response.checkpoint is not None:
        result["checkpoint"] = checkpoint_to_dict(response.checkpoint)
    return result


def consistency_response_to_dict(response: ConsistencyResponse) -> dict[str, object]:
    """Return the JSON-ready dict form of a consistency response."""
    return {
        "old": checkpoint_to_dict(response.old),
        "new": checkpoint_to_dict(response.new),
        "shard": response.shard,
        "proof": [b64encode(element) for element in response.proof],
    }


def verify_inclusion_response(
    *,
    response: InclusionResponse,
    public_keys: Mapping[str, Ed25519PublicKey],
    checkpoint: Checkpoint | None = None,
) -> Checkpoint:
    """Verify checkpoint signature, leaf hash and inclusion proof; return the checkpoint used."""
    # `checkpoint`, if given, is one the caller already holds: the response must be for it.
    trusted = checkpoint if checkpoint is not None else response.checkpoint
    if trusted is None:
        raise ProofFormatError("no checkpoint given for the inclusion proof")
    if response.checkpoint is not None and response.checkpoint != trusted:
        raise ProofError("the response is for another checkpoint than the one given")
    verify_checkpoint(checkpoint=trusted, public_keys=public_keys)
    entry = response.entry
    if leaf_hash(entry.data) != entry.leaf_hash:
        raise ProofError("entry.leaf_hash is not the leaf hash of entry.data")
    head = trusted.shard_head(entry.shard)
    verify_inclusion(
        leaf_hash=entry.leaf_hash,
        index=entry.index,
        tree_size=head.size,
        proof=response.proof,
        root=head.root,
    )
    return trusted


def verify_consistency_response(
    *, response: ConsistencyResponse, public_keys: Mapping[str, Ed25519PublicKey]
) -> None:
    """Verify both checkpoints and the consistency proof between their shard heads."""
    verify_checkpoint(checkpoint=response.old, public_keys=public_keys)
    verify_checkpoint(checkpoint=response.new, public_keys=public_keys)
    if response.old.origin != response.new.origin:
        raise ProofError("the two checkpoints are for different logs (origin differs)")
    old_head = response.old.shard_head(response.shard)
    new_head = response.new.shard_head(response.shard)
    verify_consistency(
        old_size=old_head.size,
        new_size=new_head.size,
        old_root=old_head.root,
        new_root=new_head.root,
        proof=response.proof,
    )
