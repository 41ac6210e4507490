"""`auth-admin` commands of the app registry: developer accounts and their API keys.

The key is written to standard output once; only its SHA-256 is stored, so a lost key is
replaced with `rotate-developer-key`, never recovered.
"""

from __future__ import annotations

import argparse
import json
import sys

from auth.bootstrap import Container
from auth.domain.app_rules import InvalidApp
from auth.entrypoints.cli import command
from shared.phone import looks_like_phone


def _name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="the developer's display name")


def _developer_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--developer", required=True, help="the developer id")


def _out(payload: dict[str, str]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")


@command(
    "create-developer",
    help="create a developer account; prints its id and API key (shown once)",
    setup=_name,
)
async def create_developer(container: Container, args: argparse.Namespace) -> int:
    """Create the account and print `{"developer_id", "api_key"}`."""
    if looks_like_phone(args.name):
        sys.stderr.write("refused: name: looks like a phone number\n")
        return 2
    try:
        developer, key = await container.apps.developers.create(name=args.name)
    except InvalidApp as exc:
        sys.stderr.write(f"refused: {exc}\n")
        return 2
    _out({"developer_id": developer.developer_id, "name": developer.name, "api_key": key})
    return 0


@command(
    "rotate-developer-key",
    help="give a developer a new API key (shown once); the old keys stop working",
    setup=_developer_id,
)
async def rotate_developer_key(container: Container, args: argparse.Namespace) -> int:
    """Replace the account's keys and print `{"developer_id", "api_key"}`."""
    key = await container.apps.developers.rotate_key(args.developer)
    if key is None:
        sys.stderr.write("no such developer\n")
        return 1
    _out({"developer_id": args.developer, "api_key": key})
    return 0
