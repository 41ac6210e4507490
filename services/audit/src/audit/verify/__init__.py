"""Stand-alone verifier for the audit log (standard library + ``cryptography`` only).

Nothing here imports the rest of the audit service; all intra-package imports are relative,
so third parties can use (or vendor) this package on its own.  CLI:
``python -m audit.verify verify inclusion|consistency|checkpoint ...`` (see `cli`).

Hashing is RFC 6962: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right),
empty tree = SHA-256("").  Each shard of the log is one Merkle tree; leaf indexes start at 0.

JSON shapes (as returned by the HTTP API).  All bytes are standard padded base64 (canonical:
no whitespace, no extra padding); hashes are 32 bytes; integers are JSON integers in
[0, 2**63); objects must have exactly the listed members (unknown or missing members,
duplicate keys, wrong types and trailing data are rejected).

Checkpoint (see `checkpoint` for the signed byte encoding)::

    {"origin": "<log name>",
     "shards": [                                # strictly ascending shard name
         {"shard": "consent.events/3", "size": 42, "root": "<b64 32 bytes>"}, ...],
     "time": "2025-01-31T12:00:00Z",
     "key_id": "<16 lowercase hex chars>",
     "signature": "<b64 64-byte Ed25519 signature>"}

Inclusion response::

    {"entry": {"id": "<entry id, string>", "shard": "consent.events/3", "index": 7,
               "leaf_hash": "<b64 32 bytes>",
               "data": "<b64 of the exact stored canonical entry bytes>"},
     "proof": ["<b64 32 bytes>", ...],          # RFC 9162 inclusion path, leaf to root
     "checkpoint": {...}}                       # the proof is for this checkpoint's shard head

The verifier recomputes ``leaf_hash`` from ``data`` itself and requires it to match.
``checkpoint`` may be omitted when the caller supplies the checkpoint separately.

Consistency response::

    {"old": {checkpoint}, "new": {checkpoint}, "shard": "consent.events/3",
     "proof": ["<b64 32 bytes>", ...]}          # RFC 9162 consistency proof, old -> new size
"""

from .checkpoint import (
    Checkpoint,
    ShardHead,
    checkpoint_body,
    checkpoint_from_dict,
    checkpoint_to_dict,
    format_time,
    key_id,
    load_public_key,
    public_keys_by_id,
    sign_checkpoint,
    verify_checkpoint,
)
from .errors import (
    CheckpointError,
    CheckpointFormatError,
    FormatError,
    ProofError,
    ProofFormatError,
    VerifyError,
)
from .proofs import (
    HASH_SIZE,
    empty_root,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from .responses import (
    ConsistencyResponse,
    Entry,
    InclusionResponse,
    consistency_response_to_dict,
    inclusion_response_to_dict,
    parse_consistency_response,
    parse_inclusion_response,
    verify_consistency_response,
    verify_inclusion_response,
)

__all__ = [
    "HASH_SIZE",
    "Checkpoint",
    "CheckpointError",
    "CheckpointFormatError",
    "ConsistencyResponse",
    "Entry",
    "FormatError",
    "InclusionResponse",
    "ProofError",
    "ProofFormatError",
    "ShardHead",
    "VerifyError",
    "checkpoint_body",
    "checkpoint_from_dict",
    "checkpoint_to_dict",
    "consistency_response_to_dict",
    "empty_root",
    "format_time",
    "inclusion_response_to_dict",
    "key_id",
    "leaf_hash",
    "load_public_key",
    "node_hash",
    "parse_consistency_response",
    "parse_inclusion_response",
    "public_keys_by_id",
    "root_from_inclusion_proof",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_consistency",
    "verify_consistency_response",
    "verify_inclusion",
    "verify_inclusion_response",
]
