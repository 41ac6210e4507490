"""`consent-admin`: operator commands (replay into a fresh database, compare with the live one)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

from consent.adapters.kafka_replay import topic_values
from consent.adapters.mongo_compare import differences
from consent.adapters.mongo_consents import MongoConsents, create_consent_indexes
from consent.bootstrap import Container, bootstrap
from consent.config import ConsentSettings
from consent.service.replay import rebuild


async def replay(container: Container, *, into: str) -> dict[str, Any]:
    """Rebuild consent state from the consent events topic into database `into`, then compare
    it with the live database field by field; the report (`ok` when they are equal)."""
    settings, client = container.settings, container.runtime.client
    if into == settings.database_name:
        raise ValueError("replay needs a fresh database, not the live one")
    await client.drop_database(into)
    target = client[into]
    shards = settings.collection_shards
    await create_consent_indexes(target, shards=shards)
    report = await rebuild(
        batches=topic_values(
            bootstrap=settings.kafka_bootstrap_servers, topic=settings.events_topic
        ),
        store=MongoConsents(target, shards=shards),
    )
    found = await differences(container.runtime.db, target, shards=shards)
    return {
        "ok": not found and not report.problems,
        "records": report.records,
        "versions": report.versions,
        "other_events": report.other_events,
        "not_events": report.not_events,
        "seconds": round(report.seconds, 3),
        "problems": report.problems,
        "differences": found,
    }


async def _run(args: argparse.Namespace, settings: ConsentSettings) -> int:
    container = bootstrap(settings)
    try:
        result = await replay(container, into=args.into)
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    finally:
        await container.runtime.client.close()
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0 if result["ok"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="consent-admin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rebuild_cmd = commands.add_parser("replay", help="rebuild from consent events and compare")
    rebuild_cmd.add_argument("--into", required=True, help="a fresh database name")
    args = parser.parse_args(argv)
    return asyncio.run(_run(args, ConsentSettings()))
