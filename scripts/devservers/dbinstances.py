"""Named PostgreSQL + FerretDB pairs, for tests that stop their database (the main pair is
never touched). Everything of instance NAME lives in .local/db/NAME/: the cluster in pg/data,
pid, state and log files beside it, the ports in instance.json.

    servers.py db up --instance NAME [--pg-port P --port F] [--only postgres|ferretdb]
    servers.py db down --instance NAME [--kill] [--only postgres|ferretdb]
    servers.py db status --instance NAME

`--only` starts or stops one half of the pair (PostgreSQL stopped under a running FerretDB is
the outage a test drills).
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import FERRETDB_BIN, HOST, LOCAL, MAIN, Failure, ensure_dirs, say, write_atomic
from .ferretdb import ferretdb_down, ferretdb_up, mongo_ping
from .kafka import INSTANCE_RE
from .pg_client import pg_isready
from .postgres import PgSite, pg_down, pg_up
from .process import Component

DB_HOME = LOCAL / "db"
HALVES = ("postgres", "ferretdb")

StatusRow = tuple[Component, int, Callable[[], bool], str]


def db_dir(instance: str) -> Path:
    if not INSTANCE_RE.match(instance) or instance == MAIN:
        raise Failure(
            f"db: bad instance name {instance!r} (letters, digits, - and _; "
            "the main pair is `servers.py postgres|ferretdb`)"
        )
    return DB_HOME / instance


def db_site(instance: str) -> PgSite:
    """The PostgreSQL cluster of an instance."""
    home = db_dir(instance)
    comp = Component(
        f"postgres-{instance}", marker=str(home / "pg" / "data"), kind="postgres", run_dir=home
    )
    return PgSite(comp, home / "pg")


def db_ferretdb(instance: str) -> Component:
    """The FerretDB of an instance."""
    return Component(
        f"ferretdb-{instance}", marker=str(FERRETDB_BIN), kind="ferretdb", run_dir=db_dir(instance)
    )


def db_instances() -> list[str]:
    if not DB_HOME.is_dir():
        return []
    return sorted(p.name for p in DB_HOME.iterdir() if (p / "instance.json").exists())


def db_info(instance: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((db_dir(instance) / "instance.json").read_text())
        return data
    except (OSError, ValueError):
        return {}


def db_ports(instance: str, pg_port: int | None, port: int | None) -> tuple[int, int]:
    """The flags, else the ports recorded when the instance was first started."""
    info = db_info(instance)
    pg_port = pg_port or info.get("pg_port")
    port = port or info.get("port")
    if not pg_port or not port:
        raise Failure(f"db instance '{instance}' is new: give it --pg-port and --port")
    if pg_port == port:
        raise Failure("db: --pg-port and --port must differ")
    return int(pg_port), int(port)


def db_up(
    instance: str, *, pg_port: int | None, port: int | None, timeout: float, only: str | None
) -> tuple[int, int]:
    """Start (or reuse) the pair, or only one half; return (PostgreSQL port, FerretDB port)."""
    ensure_dirs()
    home = db_dir(instance)
    pg_port, port = db_ports(instance, pg_port, port)
    home.mkdir(parents=True, exist_ok=True)
    info = {**db_info(instance), "pg_port": pg_port, "port": port}
    write_atomic(home / "instance.json", json.dumps(info, indent=2) + "\n")
    if only in (None, "postgres"):
        pg_up(timeout, site=db_site(instance), port=pg_port)
    if only in (None, "ferretdb"):
        ferretdb_up(timeout, pg_port, comp=db_ferretdb(instance), port=port)
    return pg_port, port


def db_down(instance: str, *, kill: bool = False, only: str | None = None) -> None:
    """Stop the pair (FerretDB first), or only one half."""
    if only in (None, "ferretdb"):
        ferretdb_down(kill=kill, comp=db_ferretdb(instance))
    if only in (None, "postgres"):
        pg_down(kill=kill, site=db_site(instance))


def db_status_rows(instance: str) -> list[StatusRow]:
    """What `status` shows of an instance: each half, its port, its probe, its address."""
    info = db_info(instance)
    pg_port, port = int(info.get("pg_port", 0)), int(info.get("port", 0))
    return [
        (
            db_site(instance).comp,
            pg_port,
            functools.partial(pg_isready, pg_port),
            f"{HOST}:{pg_port}",
        ),
        (
            db_ferretdb(instance),
            port,
            functools.partial(mongo_ping, port),
            f"mongodb://{HOST}:{port}/",
        ),
    ]


def add_db_parser(sub: Any) -> None:
    """The `db` command of servers.py."""
    p = sub.add_parser("db", help="a named PostgreSQL + FerretDB pair (not the main one)")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--instance", required=True, help="instance name (not main)")
    p.add_argument("--pg-port", type=int, help="PostgreSQL port (needed the first time)")
    p.add_argument("--port", type=int, help="FerretDB port (needed the first time)")
    p.add_argument("--only", choices=HALVES, help="start or stop only this half of the pair")
    p.add_argument("--kill", action="store_true", help="down: SIGKILL at once (simulates a crash)")


def db_command(args: argparse.Namespace) -> int:
    if args.action == "up":
        pg_port, port = db_up(
            args.instance,
            pg_port=args.pg_port,
            port=args.port,
            timeout=args.timeout,
            only=args.only,
        )
        say(f"db-{args.instance}: postgres {HOST}:{pg_port}, ferretdb mongodb://{HOST}:{port}/")
        return 0
    if args.action == "down":
        db_down(args.instance, kill=args.kill, only=args.only)
        return 0
    ok = True
    for comp, _port, probe, address in db_status_rows(args.instance):
        pid = comp.pid()
        answering = pid is not None and _answers(probe)
        ok = ok and answering
        state = "running" if answering else "stopped" if pid is None else "NOT answering"
        say(f"{comp.name}: {state} (pid {pid or '-'}, {address})")
    return 0 if ok else 1


def _answers(probe: Callable[[], bool]) -> bool:
    try:
        return bool(probe())
    except Exception:  # noqa: BLE001
        return False
