"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.adapters.kafka_progress import KafkaProgress
from audit.adapters.kafka_rebalance import ShardOwnership
from audit.adapters.mongo_facts import MongoFactStore, create_fact_indexes
from audit.adapters.mongo_ledger import (
    MongoCheckpointStore,
    MongoLedgerStore,
    create_ledger_indexes,
)
from audit.config import AuditSettings
from audit.domain.signing import public_keys_from_setting, signing_key_from_setting
from audit.service.checkpoints import Checkpointer
from audit.service.ingest import LedgerIngest
from audit.service.judge import Judge
from audit.service.proofs import ProofService
from audit.verify.checkpoint import public_keys_by_id
from shared.events import audit
from shared.kafka.publisher import DurablePublisher
from shared.runtime import Runtime, declare_publications
from shared.topics import DOMAIN_PARTITIONS
from shared.user_tokens import UserTokenVerifier

PUBLISHES = (audit.CheckpointSigned, audit.ViolationDetected, audit.VerdictCorrected)


@dataclass
class Container:
    """What the entry points of the audit service are handed."""

    settings: AuditSettings
    runtime: Runtime
    signing_key: Ed25519PrivateKey
    ledger: MongoLedgerStore
    checkpoints: MongoCheckpointStore
    facts: MongoFactStore
    ingest: LedgerIngest
    checkpointer: Checkpointer
    judge: Judge
    proofs: ProofService
    tokens: UserTokenVerifier | None
    progress: KafkaProgress
    ownership: ShardOwnership
    previous_keys: list[Ed25519PublicKey] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The key that verifies the checkpoints signed now."""
        return self.signing_key.public_key()

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every verification key by key id: the current one first, then the retired ones."""
        return public_keys_by_id([self.public_key, *self.previous_keys])

    async def prepare(self) -> None:
        """Create the indexes the race-free writes rely on."""
        await create_ledger_indexes(self.runtime.db)
        await create_fact_indexes(self.runtime.db)

    async def start(self) -> None:
        """Indexes, topics, consumers, then the checkpoint and judge loops (owned tasks)."""
        await self.prepare()
        await self.runtime.start()
        await self.progress.start()
        self.tasks = [
            asyncio.create_task(self.checkpointer.run(), name="checkpointer"),
            asyncio.create_task(
                self.judge.run(interval_s=self.settings.judge_interval_s), name="judge"
            ),
        ]

    async def stop(self) -> None:
        """Stop the loops, then the consumers and clients."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []
        await self.progress.stop()
        await self.runtime.stop()


COLLECTOR_THRESHOLDS = (50_000, 20, 100)
"""Python's cyclic collector, as the audit processes run it (the default is 700, 10, 10)."""


def tune_collector() -> None:
    """Collect young objects after 50,000 allocations, not 700: for the audit processes.

    A batch of 1,000 events keeps some 20,000 container objects alive until its writes are
    done, so at the default every batch ran ~30 young collections that promoted its objects to
    the old generation, and a full collection of the whole heap followed every few batches:
    measured in B1, a quarter of ingest's CPU (0.75-0.9 s of 3.0-3.7 s for 20,000 events;
    0.06-0.08 s at these thresholds). Our objects die by reference counting; the collector is
    only for cycles, which the ingest path does not make.
    """
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def bootstrap(settings: AuditSettings | None = None) -> Container:
    """Build (without connecting) everything the audit service needs."""
    settings = settings or AuditSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    key = signing_key_from_setting(settings.signing_key.get_secret_value())
    ledger, checkpoints = MongoLedgerStore(runtime.db), MongoCheckpointStore(runtime.db)
    facts = MongoFactStore(runtime.db, grace_s=settings.judge_grace_s)
    ingest = LedgerIngest(ledger=ledger, facts=facts)
    ownership = ShardOwnership(forget=ingest.forget, release=ledger.forget)
    checkpointer = _checkpointer(
        settings,
        publisher=runtime.publisher,
        key=key,
        stores=(ledger, checkpoints),
        ingest=ingest,
        ownership=ownership,
    )
    progress = _progress(settings)
    return Container(
        settings=settings,
        runtime=runtime,
        signing_key=key,
        ledger=ledger,
        checkpoints=checkpoints,
        facts=facts,
        ingest=ingest,
        checkpointer=checkpointer,
        judge=Judge(
            facts=facts,
            publisher=runtime.publisher,
            progress=progress,
            consent_topics=settings.judge_consent_topic_names,
            terms_topics=settings.judge_terms_topic_names,
        ),
        proofs=ProofService(
            ledger=ledger, checkpoints=checkpoints, partition_of=progress.partition
        ),
        tokens=_tokens(settings),
        progress=progress,
        ownership=ownership,
        previous_keys=public_keys_from_setting(settings.previous_public_keys),
    )


def _progress(settings: AuditSettings) -> KafkaProgress:
    """Where the ledger group stands on the topics verdicts depend on (consent and terms)."""
    return KafkaProgress(
        bootstrap=settings.kafka_bootstrap_servers,
        group_id=settings.ledger_group,
        topics=(*settings.judge_consent_topic_names, *settings.judge_terms_topic_names),
        partitions=DOMAIN_PARTITIONS,
    )


def _checkpointer(
    settings: AuditSettings,
    *,
    publisher: DurablePublisher,
    key: Ed25519PrivateKey,
    stores: tuple[MongoLedgerStore, MongoCheckpointStore],
    ingest: LedgerIngest,
    ownership: ShardOwnership,
) -> Checkpointer:
    """Checkpoints of the heads this instance owns, every N appended entries or T seconds."""
    ledger, checkpoints = stores
    checkpointer = Checkpointer(
        live_heads=lambda: ownership.live(ingest.heads()),
        owned=ownership.owned,
        ledger=ledger,
        store=checkpoints,
        publisher=publisher,
        key=key,
        origin=settings.log_origin,
        every=settings.checkpoint_every,
        interval_s=settings.checkpoint_interval_s,
    )
    ingest.on_appended = checkpointer.note
    return checkpointer


def _tokens(settings: AuditSettings) -> UserTokenVerifier | None:
    # None: no user-token keys configured, so this deployment accepts no user tokens (401).
    return UserTokenVerifier.from_settings(settings)
