"""`kits-dlq`: list a consumer group's dead letters by cause, and re-drive chosen ones.

    kits-dlq list --group G [--cause C] [--origin-topic T] [--text]
    kits-dlq redrive --group G (--offsets 3,7 | --cause C) [--dry-run] [--force] [--text]

Reads the broker address from KAFKA_BOOTSTRAP_SERVERS (or `--bootstrap`). Never prints a dead
letter's value or key (either may hold personal data): only the value's length and SHA-256.
Exit status: 0 done, 1 the broker failed part-way (what was done is printed), 2 a bad request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from aiokafka.errors import KafkaError

from shared.kafka.dlq_records import DeadLetter, DeadLetterTopicMissing, Redrive, redrives
from shared.kafka.dlq_records import dead_letters as read_dead_letters
from shared.kafka.dlq_redrive import NotRedrivable, Plan, Selection, execute, parse_offsets, plan
from shared.logging import redact
from shared.topics import dead_letter_topic

DEFAULT_BOOTSTRAP = "127.0.0.1:19092"


class PartialRedrive(RuntimeError):
    """The broker failed part-way; carries the report of what was re-driven before it did."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__("re-drive stopped part-way")
        self.report = report


def letter_row(letter: DeadLetter, redrive: Redrive | None) -> dict[str, Any]:
    """What an operator may see of one dead letter: where, why, when; the value only hashed."""
    return {
        "dlq_offset": letter.dlq_offset,
        "origin": {
            "topic": letter.origin_topic,
            "partition": letter.origin_partition,
            "offset": letter.origin_offset,
        },
        "cause": letter.cause,
        "error_type": letter.error_type,
        # Redacted by the writer; masked again because older writers kept input values.
        "error": redact(letter.header("dlq-error")),
        "attempts": letter.header("dlq-attempts"),
        "failed_at": letter.header("dlq-failed-at"),
        "value": letter.digest(),
        "redriven": _marker(redrive),
    }


async def list_letters(args: argparse.Namespace) -> dict[str, Any]:
    """Counts by cause and error type, then every matching dead letter."""
    markers = await redrives(args.bootstrap, group_id=args.group)
    rows = []
    async for letter in read_dead_letters(args.bootstrap, group_id=args.group):
        if args.cause is not None and letter.cause != args.cause:
            continue
        if args.origin_topic is not None and letter.origin_topic != args.origin_topic:
            continue
        rows.append(letter_row(letter, markers.get(letter.dlq_offset)))
    by_type = Counter((r["cause"], r["error_type"]) for r in rows)
    return {
        "group": args.group,
        "topic": dead_letter_topic(args.group).name,
        "filters": {"cause": args.cause, "origin_topic": args.origin_topic},
        "total": len(rows),
        "redriven": sum(1 for r in rows if r["redriven"] is not None),
        "by_cause": dict(sorted(Counter(r["cause"] for r in rows).items())),
        "by_error_type": [
            {"cause": cause, "error_type": kind, "count": n}
            for (cause, kind), n in sorted(by_type.items())
        ],
        "dead_letters": rows,
    }


async def redrive_letters(args: argparse.Namespace) -> dict[str, Any]:
    """Plan the re-drive, then (unless a dry run) publish and mark each chosen dead letter."""
    selection = Selection(
        offsets=parse_offsets(args.offsets) if args.offsets else frozenset(),
        cause=args.cause,
        force=args.force,
    )
    work = await plan(args.bootstrap, group_id=args.group, selection=selection)
    if not args.dry_run:
        try:
            await execute(args.bootstrap, work=work)
        except (KafkaError, OSError) as exc:
            raise PartialRedrive(_redrive_report(work, dry_run=False)) from exc
    return _redrive_report(work, dry_run=args.dry_run)


def _redrive_report(work: Plan, *, dry_run: bool) -> dict[str, Any]:
    done = {marker.dlq_offset: marker for marker in work.done}
    return {
        "group": work.group_id,
        "dry_run": dry_run,
        "chosen": [letter_row(letter, done.get(letter.dlq_offset)) for letter in work.chosen],
        "redriven": len(done),
        "already_redriven": [
            {"dlq_offset": offset, "redriven": _marker(marker)}
            for offset, marker in sorted(work.already.items())
        ],
    }


def _marker(redrive: Redrive | None) -> dict[str, Any] | None:
    if redrive is None:
        return None
    return {
        "topic": redrive.topic,
        "partition": redrive.partition,
        "offset": redrive.offset,
        "at": redrive.at,
        "forced": redrive.forced,
    }


def _text(payload: dict[str, Any]) -> str:
    lines = []
    if "by_cause" in payload:
        lines.append(
            f"{payload['topic']}: {payload['total']} dead letter(s), "
            f"{payload['redriven']} re-driven"
        )
        lines += [
            f"  {c['cause'] or '(none)'}  {c['error_type']}  {c['count']}"
            for c in payload["by_error_type"]
        ]
        rows = payload["dead_letters"]
    else:
        verb = "would re-drive" if payload["dry_run"] else "re-drove"
        lines.append(
            f"{payload['group']}: {verb} {len(payload['chosen'])}, "
            f"{len(payload['already_redriven'])} already re-driven (use --force)"
        )
        rows = payload["chosen"]
    for r in rows:
        o, v, to = r["origin"], r["value"], r["redriven"]
        target = f" -> {to['topic']}[{to['partition']}]@{to['offset']}" if to else ""
        lines.append(
            f"#{r['dlq_offset']} {o['topic']}[{o['partition']}]@{o['offset']} {r['cause']} "
            f"{r['error_type']} at {r['failed_at']} value {v['length']} B sha256 {v['sha256']}"
            f"{target}\n    {r['error']}"
        )
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(prog="kits-dlq", description=__doc__.split("\n")[0])
    top.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_BOOTSTRAP)
    )
    top.add_argument("--text", action="store_true", help="plain text instead of JSON")
    commands = top.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="dead letters by cause and error type")
    listing.add_argument("--group", required=True)
    listing.add_argument("--cause")
    listing.add_argument("--origin-topic")
    redrive = commands.add_parser("redrive", help="publish chosen dead letters to their origin")
    redrive.add_argument("--group", required=True)
    which = redrive.add_mutually_exclusive_group(required=True)
    which.add_argument("--offsets", help="dlq offsets, comma separated")
    which.add_argument("--cause")
    redrive.add_argument("--dry-run", action="store_true")
    redrive.add_argument("--force", action="store_true", help="re-drive already re-driven ones")
    return top


async def run(argv: Sequence[str], *, out: TextIO, err: TextIO) -> int:
    """Run one command; returns the exit status."""
    args = parser().parse_args(argv)

    def write(payload: dict[str, Any]) -> None:
        out.write((_text(payload) if args.text else json.dumps(payload, indent=2)) + "\n")

    try:
        if args.command == "list":
            write(await list_letters(args))
        else:
            write(await redrive_letters(args))
    except (DeadLetterTopicMissing, NotRedrivable, ValueError) as exc:
        err.write(f"kits-dlq: {exc}\n")
        return 2
    except PartialRedrive as exc:
        write(exc.report)
        err.write(f"kits-dlq: {exc}: {exc.__cause__!r}\n")
        return 1
    except (KafkaError, OSError, TimeoutError) as exc:
        err.write(f"kits-dlq: the broker at {args.bootstrap} failed: {exc!r}\n")
        return 1
    return 0


def main() -> None:
    """Console entry point."""
    sys.exit(asyncio.run(run(sys.argv[1:], out=sys.stdout, err=sys.stderr)))


if __name__ == "__main__":
    main()
