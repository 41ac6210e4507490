"""`audit-admin`: operate on the ledger from a shell (full audit, replay, a checkpoint now)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from pymongo import AsyncMongoClient

from audit.adapters.kafka_records import KafkaRecords
from audit.adapters.mongo_facts import MongoFactStore, create_fact_indexes
from audit.adapters.mongo_ledger import MongoLedgerStore, create_ledger_indexes
from audit.bootstrap import Container, bootstrap, tune_collector
from audit.config import AuditSettings
from audit.service.ingest import LedgerIngest
from audit.service.integrity import full_audit
from audit.service.judge import Judge
from audit.service.mirror import compare_with_topics
from audit.service.replay import DiscardingPublisher, compare, published_checkpoints, rebuild
from shared.mongo import Document


def _out(payload: object) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


async def verify_ledger(container: Container) -> int:
    """Recompute every tree from the stored entries; exit 1 naming the first bad entry."""
    name = container.settings.database_name
    if name not in await container.runtime.client.list_database_names():
        # A mistyped AUDIT_MONGODB_DATABASE would otherwise verify an empty ledger as "ok".
        sys.stderr.write(f"audit-admin: there is no database {name!r} to verify\n")
        return 2
    result = await full_audit(
        ledger=container.ledger,
        checkpoints=container.checkpoints,
        public_keys=container.public_keys(),
    )
    _out(
        {
            "ok": result.ok,
            "shards": result.shards,
            "entries_checked": result.entries,
            "checkpoints": result.checkpoints,
            "findings": [
                {"shard": f.shard, "index": f.index, "event_id": f.event_id, "problem": f.problem}
                for f in result.findings
            ],
        }
    )
    return 0 if result.ok else 1


async def replay(container: Container, *, into: str) -> int:
    """Rebuild the ledger and report data from Kafka into database `into`, then compare."""
    settings, client = container.settings, container.runtime.client
    if into == settings.database_name:
        sys.stderr.write("replay needs a fresh database, not the live one\n")
        return 2
    ledger, facts = await _fresh_stores(client, into)
    source = KafkaRecords(bootstrap=settings.kafka_bootstrap_servers)
    report = await rebuild(
        source=source,
        ingest=LedgerIngest(ledger=ledger, facts=facts),
        judge=Judge(facts=facts, publisher=DiscardingPublisher()),
        topics=settings.ledger_topic_names,
    )
    checkpoints = [  # this ledger's own: another log origin is another ledger
        (checkpoint_id, checkpoint)
        for checkpoint_id, checkpoint in await published_checkpoints(source)
        if checkpoint.origin == settings.log_origin
    ]
    await compare(
        ledger=ledger,
        checkpoints=checkpoints,
        public_keys=container.public_keys(),
        report=report,
        stored=container.ledger,
    )
    _out(
        {
            "ok": report.ok,
            "events": report.events,
            "not_known_events": report.unknown,
            "seconds": round(report.seconds, 3),
            "checkpoints": report.checkpoints,
            "shard_heads_compared": report.heads,
            "mismatches": report.mismatches,
        }
    )
    return 0 if report.ok else 1


async def _fresh_stores(
    client: AsyncMongoClient[Document], name: str
) -> tuple[MongoLedgerStore, MongoFactStore]:
    """The ledger and fact stores of database `name`, dropped and indexed anew."""
    await client.drop_database(name)
    target = client[name]
    await create_ledger_indexes(target)
    await create_fact_indexes(target)
    return MongoLedgerStore(target), MongoFactStore(target, grace_s=0.0)


async def verify_kafka(container: Container) -> int:
    """Compare each shard with its partition's records; exit 1 naming every record without its
    entry (or entry without its record)."""
    settings = container.settings
    source = KafkaRecords(bootstrap=settings.kafka_bootstrap_servers)
    topics = settings.ledger_topic_names
    committed = await source.committed(settings.ledger_group, topics)
    report = await compare_with_topics(
        ledger=container.ledger, source=source, topics=topics, committed=committed
    )
    _out(
        {
            "ok": report.ok,
            "partitions": report.partitions,
            "records": report.records,
            "entries": report.entries,
            "pending": report.pending,
            "findings": report.findings,
        }
    )
    return 0 if report.ok else 1


async def _run(args: argparse.Namespace, settings: AuditSettings) -> int:
    try:
        container = bootstrap(settings)
    except ValueError as exc:  # a setting the composition root could not use, e.g. the key
        return _refuse(str(exc))
    try:
        if args.command == "verify-ledger":
            return await verify_ledger(container)
        if args.command == "verify-kafka":
            return await verify_kafka(container)
        if args.command == "replay":
            return await replay(container, into=args.into)
        await container.prepare()
        await container.runtime.broker.connect()
        stored = await container.checkpointer.checkpoint(every_shard=True)
        _out({"checkpoint_id": stored.checkpoint_id if stored else None})
        return 0
    finally:
        await container.runtime.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `audit-admin`."""
    parser = argparse.ArgumentParser(prog="audit-admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("verify-ledger", help="full audit of the stored ledger")
    commands.add_parser(
        "verify-kafka", help="compare each ledger shard with its partition's records in Kafka"
    )
    rep = commands.add_parser("replay", help="rebuild from Kafka into a fresh database")
    rep.add_argument("--into", required=True, help="name of the fresh database to rebuild into")
    commands.add_parser("checkpoint", help="sign and publish a checkpoint now")
    args = parser.parse_args(argv)
    tune_collector()  # replay runs the ingest handler
    try:
        settings = AuditSettings()
    except ValidationError as exc:
        return _refuse(_causes(exc))
    return asyncio.run(_run(args, settings))


def _causes(exc: ValidationError) -> str:
    # Names and reasons only: pydantic's own text repeats the input, secrets included.
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
        for err in exc.errors()
    )


def _refuse(reason: str) -> int:
    sys.stderr.write(
        f"audit-admin: the AUDIT_* settings are not usable: {reason}\n"
        "(run it with the environment of the audit service it operates on; "
        "see services/audit/README.md)\n"
    )
    return 2
