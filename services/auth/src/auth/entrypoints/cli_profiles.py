"""`auth-admin seed-demo`: demo users with profiles and videos (development only)."""

from __future__ import annotations

import argparse
import sys

from auth.bootstrap import Container, demo_seeder
from auth.domain.profile import MAX_VIDEOS
from auth.entrypoints.cli import command
from auth.service.demo_data import MAX_GENERATED, generated_users, named_users


def _bounded(high: int) -> type[int]:
    def parse(text: str) -> int:
        value = int(text)
        if not 0 <= value <= high:
            raise argparse.ArgumentTypeError(f"must be 0 to {high}")
        return value

    return parse  # type: ignore[return-value]


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--users", type=_bounded(MAX_GENERATED), default=0, help="generated demo users")
    p.add_argument(
        "--videos-per-user",
        type=_bounded(MAX_VIDEOS),
        default=3,
        help="videos of each generated user",
    )


@command(
    "seed-demo",
    help="create the named demo users (and --users more) with profiles and videos; "
    "prints the demo phone numbers to log in with (development only)",
    setup=_setup,
)
async def seed_demo(c: Container, args: argparse.Namespace) -> int:
    """Seed the demo users and print each one's number, key and state."""
    if not c.settings.development:
        sys.stderr.write("seed-demo runs only with AUTH_ENVIRONMENT=development\n")
        return 2
    people = named_users() + generated_users(args.users, videos_per_user=args.videos_per_user)
    seeded = await demo_seeder(c).seed(people)
    # The numbers are printed for the developer to log in with; they are stored nowhere.
    out = sys.stdout
    out.write("demo users (log in with the number; the dev SMS sender shows the code):\n")
    for person, done in zip(people, seeded, strict=True):
        state = "created" if done.created else "exists"
        out.write(f"  {done.phone}  {person.display_name:<16}  {done.videos:>3} videos  {state}\n")
    return 0
