"""Command line verifier: ``python -m audit.verify verify {inclusion,consistency,checkpoint}``.

Exit status: 0 verified, 1 verification failed, 2 usage or parse error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .checkpoint import (
    Checkpoint,
    checkpoint_from_dict,
    load_public_key,
    public_keys_by_id,
    verify_checkpoint,
)
from .encoding import loads_strict
from .errors import FormatError, ProofFormatError, VerifyError
from .responses import (
    parse_consistency_response,
    parse_inclusion_response,
    verify_consistency_response,
    verify_inclusion_response,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
_MAX_FILE_BYTES = 16 * 1024 * 1024


class _UsageError(Exception):
    """Raised instead of argparse's default print-and-exit."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.format_usage()}{self.prog}: error: {message}")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="audit-verify", description="Verify audit-log proofs offline.")
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="verify"
    )
    verify = commands.add_parser("verify", help="verify a proof or checkpoint")
    kinds = verify.add_subparsers(
        dest="kind",
        required=True,
        parser_class=_Parser,
        metavar="{inclusion,consistency,checkpoint}",
    )
    key_help = "Ed25519 public key file (PEM or base64 raw key); repeatable"
    inclusion = kinds.add_parser("inclusion", help="verify an inclusion response")
    inclusion.add_argument(
        "--entry", required=True, metavar="FILE", type=Path, help="inclusion response JSON"
    )
    inclusion.add_argument(
        "--checkpoint", metavar="FILE", type=Path, help="checkpoint JSON the proof must be for"
    )
    consistency = kinds.add_parser("consistency", help="verify a consistency response")
    consistency.add_argument(
        "--proof", required=True, metavar="FILE", type=Path, help="consistency response"
    )
    checkpoint = kinds.add_parser("checkpoint", help="verify a checkpoint signature")
    checkpoint.add_argument(
        "--checkpoint", required=True, metavar="FILE", type=Path, help="checkpoint JSON"
    )
    for sub in (inclusion, consistency, checkpoint):
        sub.add_argument(
            "--public-key", required=True, metavar="FILE", action="append", type=Path, help=key_help
        )
    return parser


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ProofFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > _MAX_FILE_BYTES:
        raise ProofFormatError(f"{path} is larger than {_MAX_FILE_BYTES} bytes")
    return data


def _load_json(path: Path) -> object:
    return loads_strict(_read(path), what=str(path), error=ProofFormatError)


def _public_keys(paths: Sequence[Path]) -> dict[str, Ed25519PublicKey]:
    return public_keys_by_id(load_public_key(_read(path)) for path in paths)


def _describe(checkpoint: Checkpoint) -> str:
    return f"checkpoint {checkpoint.origin} at {checkpoint.time} (key {checkpoint.key_id})"


def _run_inclusion(args: argparse.Namespace) -> str:
    response = parse_inclusion_response(_load_json(args.entry))
    given = checkpoint_from_dict(_load_json(args.checkpoint)) if args.checkpoint else None
    keys = _public_keys(args.public_key)
    used = verify_inclusion_response(response=response, public_keys=keys, checkpoint=given)
    entry = response.entry
    size = used.shard_head(entry.shard).size
    return (
        f"OK: entry {entry.id} is leaf {entry.index} of shard {entry.shard} "
        f"(tree size {size}) in {_describe(used)}\n"
    )


def _run_consistency(args: argparse.Namespace) -> str:
    response = parse_consistency_response(_load_json(args.proof))
    verify_consistency_response(response=response, public_keys=_public_keys(args.public_key))
    old = response.old.shard_head(response.shard).size
    new = response.new.shard_head(response.shard).size
    return (
        f"OK: shard {response.shard} of size {new} in {_describe(response.new)} "
        f"extends size {old} in {_describe(response.old)}\n"
    )


def _run_checkpoint(args: argparse.Namespace) -> str:
    checkpoint = checkpoint_from_dict(_load_json(args.checkpoint))
    verify_checkpoint(checkpoint=checkpoint, public_keys=_public_keys(args.public_key))
    heads = ", ".join(f"shard {h.shard} size {h.size}" for h in checkpoint.shards)
    return f"OK: {_describe(checkpoint)} is validly signed: {heads}\n"


_COMMANDS = {
    "inclusion": _run_inclusion,
    "consistency": _run_consistency,
    "checkpoint": _run_checkpoint,
}


def main(argv: list[str] | None = None) -> int:
    """Run the verifier CLI and return its exit status."""
    try:
        args = _build_parser().parse_args(argv)
    except _UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        sys.stdout.write(_COMMANDS[args.kind](args))
    except FormatError as exc:
        sys.stderr.write(f"ERROR: {exc}\n")
        return EXIT_USAGE
    except VerifyError as exc:
        sys.stdout.write(f"FAILED: {exc}\n")
        return EXIT_FAILED
    return EXIT_OK
