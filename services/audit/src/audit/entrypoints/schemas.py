"""HTTP shapes of the audit service: what each route answers, as its OpenAPI document says.

The proof shapes are the verifier's (`audit.verify`): exactly these members, bytes as padded
base64, so a third party checks them without this code base.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.http import Problem


class _Public(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyPublic(_Public):
    """One checkpoint-signing key."""

    key_id: str
    algorithm: Literal["Ed25519"]
    public_key: str
    """The raw 32-byte Ed25519 public key, base64."""
    status: Literal["current", "retired"]


class KeysPublic(_Public):
    """Every key a stored checkpoint may be signed with, the current one first."""

    keys: list[KeyPublic]


class ShardHeadPublic(_Public):
    """A shard's size and root in a checkpoint."""

    shard: str
    size: int
    root: str


class SignedCheckpoint(_Public):
    """The signed fields of a checkpoint (the verifier's shape)."""

    origin: str
    shards: list[ShardHeadPublic]
    time: str
    key_id: str
    signature: str


class CheckpointPublic(SignedCheckpoint):
    """A checkpoint as served: its id and the signed fields."""

    checkpoint_id: str


class EntryPublic(_Public):
    """A ledger entry: its place, its leaf hash and the exact stored bytes (base64)."""

    id: str
    shard: str
    index: int
    leaf_hash: str
    data: str


class InclusionPublic(_Public):
    """An entry, its RFC 9162 inclusion path, and the checkpoint the path is for."""

    entry: EntryPublic
    proof: list[str]
    checkpoint: SignedCheckpoint


class ConsistencyPublic(_Public):
    """An RFC 9162 consistency proof for one shard between two checkpoints."""

    old: SignedCheckpoint
    new: SignedCheckpoint
    shard: str
    proof: list[str]


__all__ = [
    "CheckpointPublic",
    "ConsistencyPublic",
    "InclusionPublic",
    "KeyPublic",
    "KeysPublic",
    "Problem",
    "SignedCheckpoint",
]


class TransferReportRow(_Public):
    """One transfer of the user's data: to whom, when, what, under which consent, the verdict."""

    transfer_id: str
    event_id: str
    app_id: str
    released_at: str
    fields_released: list[str]
    scopes_used: list[str]
    purpose: str
    consent_id: str
    consent_version: int
    terms_version: str
    verdict: Literal["pending", "covered", "violation"]
    violation_reason: (
        Literal["no_consent", "revoked", "invalidated", "scope_not_granted", "terms_mismatch"]
        | None
    )
    corrections: int
    """How many times late consent or terms events changed this verdict."""


class AccessReportPublic(_Public):
    """Every transfer of the caller's data, with the verdicts."""

    user: str
    transfers: list[TransferReportRow]
    violations: int
