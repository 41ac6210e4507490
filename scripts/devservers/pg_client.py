"""PostgreSQL's client programs: where they are, readiness (pg_isready), the FerretDB database."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

from .common import HOST, PG_DATABASE, PG_USER, run, step


def pg_bindir() -> Path | None:
    found = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        with contextlib.suppress(ValueError):
            found.append((int(initdb.parent.parent.name), initdb.parent))
    if found:
        return max(found)[1]
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _client(tool: str, port: int) -> list[str]:
    """A PostgreSQL client program connecting to the cluster's `postgres` database."""
    bindir = pg_bindir()
    program = str(bindir / tool) if bindir else tool
    return [program, "-h", HOST, "-p", str(port), "-U", PG_USER, "-d", "postgres"]


def pg_isready(port: int) -> bool:
    cmd = [*_client("pg_isready", port), "-q", "-t", "2"]
    return (
        subprocess.run(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ).returncode
        == 0
    )


def pg_ensure_db(port: int) -> None:
    base = [*_client("psql", port), "-X", "-q", "-t", "-A"]
    out = run(
        [*base, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{PG_DATABASE}'"],
        "psql",
        timeout=30,
    )
    if out.strip() != "1":
        step(f"postgres: creating database {PG_DATABASE}")
        run([*base, "-c", f'CREATE DATABASE "{PG_DATABASE}"'], "create database", timeout=30)
