"""`auth-admin`: operator commands that run against auth's database (and Kafka where stated).

Each subcommand is registered in `COMMANDS` by its area's module: see `--help`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence

from auth.bootstrap import Container, bootstrap

Command = Callable[[Container, argparse.Namespace], Awaitable[int]]
Setup = Callable[[argparse.ArgumentParser], None]
COMMANDS: dict[str, tuple[str, Setup, Command]] = {}


def command(name: str, *, help: str, setup: Setup) -> Callable[[Command], Command]:
    """Register a subcommand: its help line, its arguments, and what it runs."""

    def register(run: Command) -> Command:
        COMMANDS[name] = (help, setup, run)
        return run

    return register


def parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    top = argparse.ArgumentParser(prog="auth-admin", description=__doc__)
    subs = top.add_subparsers(dest="command", required=True)
    for name, (help_line, setup, _) in sorted(COMMANDS.items()):
        setup(subs.add_parser(name, help=help_line, description=help_line))
    return top


async def _run(args: argparse.Namespace) -> int:
    container = bootstrap()
    await container.prepare()
    await container.runtime.start()  # topics exist and events can be published
    try:
        return await COMMANDS[args.command][2](container, args)
    finally:
        await container.runtime.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; its exit status."""
    args = parser().parse_args(argv)
    return asyncio.run(_run(args))


# Each area's module registers its subcommands when imported (after `command` exists).
from auth.entrypoints import cli_apps, cli_profiles  # noqa: E402, F401

if __name__ == "__main__":
    sys.exit(main())
