"""What the audit handlers need from storage: ports the Mongo adapters (and fakes) implement."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from audit.domain.ledger import Entry, EntryBatch
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


class UnreadableEntries(ValueError):
    """What a shard stores from entry `start` on cannot be read back as entries (the store was
    damaged or tampered with); the message names the place in the store's own terms."""

    def __init__(self, start: int, reason: str) -> None:
        super().__init__(reason)
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
    seq: int = 0
    """Its number in the chain of checkpoints (1 for the first; 0 before numbering existed):
    each one covers every shard of the one before it at least as far."""


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
class UserWork:
    """A user with new consent or transfer facts: judge their transfers again."""

    user_key: str
    apps: tuple[str, ...]
    """The apps of those facts (their terms partitions must have been read)."""
    moment: datetime
    """The latest time among those facts."""


@dataclass(frozen=True, slots=True)
class TermsWork:
    """An app published terms at this time: judge its transfers from then on again."""

    app_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PendingPage:
    """Part of one ingested batch's new facts, waiting for the judge (at most 200 items)."""

    page_id: str
    users: list[UserWork]
    terms: list[TermsWork]


@dataclass(frozen=True, slots=True)
class Facts:
    """What one ingested batch adds to the read models."""

    consents: list[ConsentRow]
    terms: list[TermsRow]
    transfers: list[TransferRow]


@dataclass(frozen=True, slots=True)
class VerdictState:
    """A transfer's verdict now, and how many times it changed since the first one."""

    verdict: Verdict
    changes: int = 0


@dataclass(frozen=True, slots=True)
class UserFacts:
    """Everything stored about one user, read from that user's own documents only."""

    user_key: str
    consents: dict[str, list[ConsentFact]]
    """By app."""
    transfers: list[TransferRow]
    """Oldest first."""
    verdicts: dict[str, VerdictState]
    """By transfer event id, as of the latest judgement (a transfer without one is pending)."""
    end: int
    """Where the user's next document goes: the place a judgement claims."""
    judged: bool
    """The user's latest document is a judgement (no fact arrived after it)."""
    unsent: list[bytes] = field(default_factory=list)
    """Events of the latest judgement not yet marked published."""
    unsent_since: float | None = None
    """When that judgement was claimed (seconds since the epoch)."""


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the judge concluded about one user: stored as the claim, then published."""

    verdicts: dict[str, VerdictState]
    outbox: list[bytes]
    """The events announcing the changes (CloudEvents JSON), published after the claim."""


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

    def batches(self, shard: str) -> AsyncGenerator[EntryBatch]:
        """Every entry of the shard in index order, in batches as the store reads them (a full
        audit checks one batch while the store reads the next); UnreadableEntries where what
        is stored cannot be read."""

    def scan(self, shard: str) -> AsyncIterator[Entry]:
        """Every entry of the shard in index order (UnreadableEntries where it cannot be read)."""


class Progress(Protocol):
    """Where the ledger's consumer group stands on the topics verdicts depend on."""

    def partition(self, key: str) -> int:
        """The partition a key is produced to."""

    async def offsets(self) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        """End offsets and the group's committed offsets, by (topic, partition)."""


class CheckpointStore(Protocol):
    """Signed checkpoints, insert-only, numbered one after another."""

    async def save(self, stored: StoredCheckpoint) -> bool:
        """Claim number `stored.seq` for it; False when another writer holds that number."""

    async def latest(self) -> StoredCheckpoint | None:
        """The checkpoint with the highest number."""

    async def get(self, checkpoint_id: str) -> StoredCheckpoint | None:
        """One checkpoint by id."""

    async def all(self) -> list[StoredCheckpoint]:
        """Every checkpoint, oldest first."""


class FactStore(Protocol):
    """The read models the judge and the access report use, idempotent by event id."""

    async def add(self, facts: Facts) -> None:
        """Store a batch's facts under their users and apps; then note them as pending work."""

    async def due(self, *, now: datetime, limit: int) -> list[PendingPage]:
        """Pending pages past their grace period, oldest first, until `limit` items."""

    async def user(self, user_key: str, *, fresh: bool = True) -> UserFacts:
        """One user's consents, transfers and verdicts (without `fresh`, as of the end this
        process knows: enough for a judgement, whose claim fails if it was not the end)."""

    async def terms(self, app_ids: Collection[str]) -> dict[str, list[TermsFact]]:
        """The terms each of these apps published."""

    async def note_transfers(self, app_users: Mapping[str, Collection[str]]) -> None:
        """Note that these users' transfers of these apps are being judged now."""

    async def users_of_app(self, app_id: str, *, since: datetime) -> set[str]:
        """Users whose transfers of this app were noted at or after `since`."""

    async def save_judgements(self, judged: Sequence[tuple[UserFacts, Judgement]]) -> list[bool]:
        """Claim each user's next place for their judgement; False where another write took
        it first."""

    async def mark_sent(self, judged: Sequence[tuple[str, int]]) -> None:
        """The events of these (user, place) judgements are published."""

    async def forget_pending(self, page_id: str) -> None:
        """Every item of this pending page was judged: the page goes."""


class RecordSource(Protocol):
    """The topics as Kafka holds them: for replay and the comparison of ledger and topics."""

    async def partitions(self, topics: Sequence[str]) -> list[tuple[str, int]]:
        """Every (topic, partition) of these topics."""

    def read(self, topic: str, partition: int, *, batch: int = 2000) -> AsyncGenerator[list[Any]]:
        """The partition's records (aiokafka `ConsumerRecord`s) from its beginning to its
        current end, in offset order, a batch at a time."""

    async def committed(self, group_id: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        """A group's committed offsets by partition."""
