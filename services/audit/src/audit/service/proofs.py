"""Proofs as plain JSON a third party checks with only the public key (see audit.verify)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from audit.service import trees
from audit.service.ports import CheckpointStore, LedgerStore, StoredCheckpoint
from audit.verify.checkpoint import checkpoint_to_dict
from audit.verify.errors import CheckpointError
from audit.verify.responses import (
    ConsistencyResponse,
    Entry,
    InclusionResponse,
    consistency_response_to_dict,
    inclusion_response_to_dict,
)


class NotFound(LookupError):
    """No such entry, checkpoint or shard."""


class NotCovered(ValueError):
    """The entry or shard is not (yet) covered by that checkpoint: ask for a later one."""


@dataclass(frozen=True, slots=True)
class Reader:
    """Who asks for a ledger entry: an auditor reads every entry, a user those about them.

    An entry's bytes carry pseudonymous keys (the internal user key next to an app's pairwise
    subject), so entries are not public; checkpoints, keys and consistency proofs carry only
    hashes and are.
    """

    user_key: str | None
    """None for an auditor."""

    def may_read(self, data: bytes) -> bool:
        """True when this reader may see the event with these bytes."""
        if self.user_key is None:
            return True
        try:
            payload = json.loads(data).get("data")
        except (ValueError, AttributeError):
            return False
        return isinstance(payload, dict) and payload.get("user_key") == self.user_key


AUDITOR = Reader(user_key=None)


class ProofService:
    """Inclusion and consistency proofs against signed checkpoints."""

    def __init__(
        self,
        *,
        ledger: LedgerStore,
        checkpoints: CheckpointStore,
        partition_of: Callable[[str], int] | None = None,
    ) -> None:
        self._ledger, self._checkpoints = ledger, checkpoints
        self._partition_of = partition_of

    async def checkpoint(self, checkpoint_id: str | None) -> StoredCheckpoint:
        """A checkpoint by id, or the latest one."""
        found = await (
            self._checkpoints.get(checkpoint_id) if checkpoint_id else self._checkpoints.latest()
        )
        if found is None:
            raise NotFound(
                f"no checkpoint {checkpoint_id}"
                if checkpoint_id
                else "no checkpoint has been signed yet"
            )
        return found

    async def inclusion(
        self,
        event_id: str,
        *,
        checkpoint_id: str | None,
        partition: int | None = None,
        reader: Reader = AUDITOR,
    ) -> dict[str, Any]:
        """The entry, its inclusion proof and the checkpoint the proof is for; an entry the
        reader may not see is not found (its existence is not revealed either). A user's
        entries are keyed by their user key, so their search is narrowed to its partition."""
        if partition is None and reader.user_key is not None and self._partition_of is not None:
            partition = self._partition_of(reader.user_key)
        entry = await self._ledger.entry(event_id, partition=partition)
        if entry is None or not reader.may_read(entry.data):
            hint = "" if partition is not None else " in the shards held here; give its subject"
            raise NotFound(f"no ledger entry for event {event_id}{hint}")
        stored = await self.checkpoint(checkpoint_id)
        size = _size(stored, entry.shard)
        if entry.index >= size:
            raise NotCovered(
                f"entry {entry.index} of {entry.shard} is not in checkpoint "
                f"{stored.checkpoint_id} (size {size}); ask for a later one"
            )
        proof = await trees.inclusion(self._ledger, entry.shard, index=entry.index, size=size)
        response = InclusionResponse(
            entry=Entry(
                id=entry.event_id,
                shard=entry.shard,
                index=entry.index,
                leaf_hash=entry.leaf,
                data=entry.data,
            ),
            proof=tuple(proof),
            checkpoint=stored.checkpoint,
        )
        return inclusion_response_to_dict(response)

    async def consistency(self, *, old_id: str, new_id: str, shard: str) -> dict[str, Any]:
        """A consistency proof for one shard between two checkpoints."""
        old, new = await self.checkpoint(old_id), await self.checkpoint(new_id)
        old_size, new_size = _size(old, shard), _size(new, shard)
        if old_size > new_size:
            raise NotCovered("the old checkpoint is larger than the new one for this shard")
        proof = await trees.consistency(self._ledger, shard, old=old_size, new=new_size)
        response = ConsistencyResponse(
            old=old.checkpoint, new=new.checkpoint, shard=shard, proof=tuple(proof)
        )
        return consistency_response_to_dict(response)


def checkpoint_json(stored: StoredCheckpoint) -> dict[str, Any]:
    """A checkpoint as served: its id and the signed fields."""
    return {"checkpoint_id": stored.checkpoint_id, **checkpoint_to_dict(stored.checkpoint)}


def _size(stored: StoredCheckpoint, shard: str) -> int:
    try:
        return stored.checkpoint.shard_head(shard).size
    except CheckpointError:
        raise NotFound(f"checkpoint {stored.checkpoint_id} has no shard {shard}") from None
