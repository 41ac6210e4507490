"""What the audit handlers need from storage: ports the Mongo adapters (and fakes) implement."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from audit.domain.ledger import Entry, Run
from audit.domain.merkle import NodeId
from audit.domain.verdict import ConsentFact, TermsFact, Verdict
from audit.verify.checkpoint import Checkpoint


class DuplicateEvent(Exception):
    """The event id is already an entry of its shard (it was published again)."""

    def __init__(self, *, event_id: str, stored: int) -> None:
        super().__init__(f"event {event_id} is already in the ledger")
        self.event_id = event_id
        self.stored = stored


class SlotTaken(Exception):
    """Another writer appended to the shard first (a rebalance): reload and try again."""


class MalformedChunk(ValueError):
    """A stored chunk of entries whose parts do not fit together (the store was tampered with)."""

    def __init__(self, start: int, problem: str) -> None:
        super().__init__(f"stored chunk at index {start} is malformed: {problem}")
        self.start = start


@dataclass(frozen=True, slots=True)
class ShardTip:
    """Where a shard's stored entries end."""

    size: int
    last_offset: int
    """The Kafka offset of the last entry (-1 when the shard is empty)."""


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint with its id and the time it was made."""

    checkpoint_id: str
    checkpoint: Checkpoint
    signed_at: datetime


@dataclass(frozen=True, slots=True)
class TransferRow:
    """A transfer as the report and the judge read it."""

    event_id: str
    data: dict[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class ConsentRow:
    """A consent event of one user and app."""

    event_id: str
    user_key: str
    app_id: str
    fact: ConsentFact


@dataclass(frozen=True, slots=True)
class TermsRow:
    """An app's terms publication."""

    event_id: str
    app_id: str
    fact: TermsFact


@dataclass(frozen=True, slots=True)
class PendingPage:
    """The transfers of one ingested batch, waiting for their verdicts."""

    page_id: str
    transfers: list[TransferRow]


@dataclass(frozen=True, slots=True)
class Facts:
    """What one ingested batch adds to the read models."""

    consents: list[ConsentRow]
    terms: list[TermsRow]
    transfers: list[TransferRow]


class LedgerStore(Protocol):
    """Append-only entries, one tree per shard; there is no update or delete."""

    async def append(self, entries: Sequence[Entry]) -> None:
        """Insert one shard's entries in order; raise DuplicateEvent or SlotTaken on a clash."""

    async def shards(self) -> list[str]:
        """Every shard with at least one entry."""

    async def tip(self, shard: str) -> ShardTip:
        """The shard's size and last Kafka offset, as stored now (other writers included)."""

    async def nodes(self, shard: str, wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """The hashes of these perfect tree nodes of the shard (missing ones are absent)."""

    async def entry(self, event_id: str, *, partition: int | None = None) -> Entry | None:
        """One entry by event id (narrowed to one partition's shards when it is known)."""

    def runs(self, shard: str) -> AsyncGenerator[Run]:
        """Every entry of the shard in index order, in the runs the store keeps them in (a full
        audit checks one run while the store reads the next); MalformedChunk where a stored
        run cannot be read."""

    def scan(self, shard: str) -> AsyncIterator[Entry]:
        """Every entry of the shard in index order (MalformedChunk where it cannot be read)."""


class Progress(Protocol):
    """Where the ledger's consumer group stands on the topics verdicts depend on."""

    def partition(self, key: str) -> int:
        """The partition a key is produced to."""

    async def offsets(self) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        """End offsets and the group's committed offsets, by (topic, partition)."""


class CheckpointStore(Protocol):
    """Signed checkpoints, insert-only."""

    async def save(self, stored: StoredCheckpoint) -> bool:
        """Insert; False if that id was already there."""

    async def latest(self) -> StoredCheckpoint | None:
        """The newest checkpoint."""

    async def get(self, checkpoint_id: str) -> StoredCheckpoint | None:
        """One checkpoint by id."""

    async def all(self) -> list[StoredCheckpoint]:
        """Every checkpoint, oldest first."""


class FactStore(Protocol):
    """The read models the judge and the access report use, idempotent by event id."""

    async def add(self, facts: Facts) -> None:
        """Store facts (idempotent by event id); the batch's transfers become a pending page."""

    async def due(
        self, *, now: datetime, limit: int, judged: Collection[str] = frozenset()
    ) -> list[PendingPage]:
        """Pending pages whose transfers are all past their grace period, oldest first, until
        they hold at least `limit` transfers not in `judged` (the judge's own memory)."""

    async def timelines(
        self, *, user_keys: Sequence[str], app_ids: Sequence[str]
    ) -> tuple[dict[tuple[str, str], list[ConsentFact]], dict[str, list[TermsFact]]]:
        """Consent timelines by (user, app) and terms by app, for a batch of transfers."""

    async def record_verdicts(self, judged: Sequence[tuple[TransferRow, Verdict]]) -> None:
        """Keep these verdicts (the first verdict of a transfer wins)."""

    async def forget_pending(self, page_id: str) -> None:
        """Every transfer of this pending page has its verdict: the page goes."""

    async def transfers_of(self, user_key: str) -> list[TransferRow]:
        """Every transfer of one user's data, oldest first."""

    async def verdicts(self, event_ids: Sequence[str]) -> dict[str, Verdict]:
        """Verdicts of these transfers (absent while pending)."""


class RecordSource(Protocol):
    """The topics as Kafka holds them: for replay and the comparison of ledger and topics."""

    async def partitions(self, topics: Sequence[str]) -> list[tuple[str, int]]:
        """Every (topic, partition) of these topics."""

    def read(self, topic: str, partition: int, *, batch: int = 2000) -> AsyncGenerator[list[Any]]:
        """The partition's records (aiokafka `ConsumerRecord`s) from its beginning to its
        current end, in offset order, a batch at a time."""

    async def committed(self, group_id: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        """A group's committed offsets by partition."""
