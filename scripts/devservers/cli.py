"""Local servers without Docker: PostgreSQL, FerretDB (MongoDB wire protocol) and Kafka.

The command line of scripts/servers.py: `up`, `down`, `status`, `env` over all three servers,
`kafka|postgres|ferretdb up|down|status` for one of them, and `db` for a named database pair.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .common import (
    DEFAULT_TIMEOUT,
    HOST,
    MAIN,
    PG_DATABASE,
    PG_USER,
    RUN,
    Failure,
    env_port,
    port_open,
    say,
)
from .dbinstances import add_db_parser, db_command, db_down, db_instances, db_status_rows
from .ferretdb import FERRETDB, ferretdb_down, ferretdb_up, mongo_ping
from .kafka import (
    kafka_component,
    kafka_down,
    kafka_instance_info,
    kafka_instances,
    kafka_probe,
    kafka_up,
)
from .pg_client import pg_isready
from .postgres import PG, pg_down, pg_up
from .process import Component

Row = tuple[str, str, str, str]

# --------------------------------------------------------------------------- status / env


def main_ports() -> dict[str, int]:
    kinfo = kafka_instance_info(MAIN)
    kport = env_port("KAFKA_PORT", kinfo.get("port") or 19092)
    return {
        "kafka": kport,
        "postgres": env_port("PG_PORT", 15432),
        "ferretdb": env_port("FERRETDB_PORT", 27018),
    }


def status_row(
    comp: Component, port: int, probe: Callable[[], bool], address: str, required: bool
) -> tuple[Row, bool]:
    """One line of `status`, and whether it keeps "all main servers answer" true."""
    pid = comp.pid()
    if pid is None:
        state = "stale pid file" if comp.pidfile.exists() else "stopped"
        if port_open(port):
            state += f" (port {port} used by another process)"
        return (comp.name, state, "-", address), not required
    try:
        answering = bool(probe())
    except Exception:  # noqa: BLE001
        answering = False
    state = "running" if answering else "running, NOT answering"
    return (comp.name, state, str(pid), address), answering or not required


def status() -> int:
    ports = main_ports()
    checked: list[tuple[Row, bool]] = []
    pg_port = PG.state().get("port", ports["postgres"])
    checked.append(status_row(PG, pg_port, lambda: pg_isready(pg_port), f"{HOST}:{pg_port}", True))
    fd_port = FERRETDB.state().get("port", ports["ferretdb"])
    fd_url = f"mongodb://{HOST}:{fd_port}/"
    checked.append(status_row(FERRETDB, fd_port, lambda: mongo_ping(fd_port), fd_url, True))
    instances = kafka_instances()
    if MAIN not in instances:
        instances.insert(0, MAIN)
    for inst in instances:
        comp = kafka_component(inst)
        found = comp.state().get("port") or (
            ports["kafka"] if inst == MAIN else kafka_instance_info(inst).get("port")
        )
        if not found:
            continue
        kport = int(found)
        probe = functools.partial(kafka_probe, kport)
        checked.append(status_row(comp, kport, probe, f"{HOST}:{kport}", inst == MAIN))
    for db in db_instances():
        for half, port, answers, address in db_status_rows(db):
            checked.append(status_row(half, port, answers, address, False))
    rows = [row for row, _ in checked]
    width = max(len(r[0]) for r in rows)
    for name, state, pid, addr in rows:
        say(f"{name:<{width}}  {state:<22}  pid {pid:<8}  {addr}")
    return 0 if all(ok for _, ok in checked) else 1


def print_env() -> None:
    ports = main_ports()
    kport = kafka_component(MAIN).state().get("port") or ports["kafka"]
    fport = FERRETDB.state().get("port") or ports["ferretdb"]
    print(f"export KAFKA_BOOTSTRAP_SERVERS={HOST}:{kport}")
    print(f"export MONGODB_URL=mongodb://{HOST}:{fport}/")


def up_all(timeout: float) -> None:
    t0 = time.monotonic()
    say("servers: starting PostgreSQL, FerretDB, Kafka")
    pg_port = pg_up(timeout)
    fd_port = ferretdb_up(timeout, pg_port)
    k_port = kafka_up(MAIN, None, None, timeout)
    say(f"servers: all up in {time.monotonic() - t0:.1f} s")
    say(f"  postgres  {HOST}:{pg_port}  (user {PG_USER}, database {PG_DATABASE})")
    say(f"  ferretdb  mongodb://{HOST}:{fd_port}/")
    say(f"  kafka     {HOST}:{k_port}")
    say(
        f"  logs      {RUN}/*.log"
        f'   (eval "$({Path(sys.argv[0]).as_posix()} env)" for the variables)'
    )


def down_all(kill: bool = False) -> None:
    say("servers: stopping Kafka, FerretDB, PostgreSQL")
    instances = kafka_instances()
    for inst in instances or [MAIN]:
        kafka_down(inst, kill=kill)
    for db in db_instances():
        db_down(db, kill=kill)
    ferretdb_down(kill=kill)
    pg_down(kill=kill)


# --------------------------------------------------------------------------- one server


def kafka_command(args: argparse.Namespace) -> int:
    if args.action == "up":
        kafka_up(args.instance, args.port, args.controller_port, args.timeout)
    elif args.action == "down":
        kafka_down(args.instance, kill=args.kill)
    else:
        comp = kafka_component(args.instance)
        pid = comp.pid()
        port = int(comp.state().get("port") or kafka_instance_info(args.instance).get("port") or 0)
        ok = pid is not None and port > 0 and _quiet(functools.partial(kafka_probe, port))
        say(
            f"{comp.name}: "
            f"{'running' if ok else 'stopped' if pid is None else 'NOT answering'}"
            f" (pid {pid or '-'}, {HOST}:{port})"
        )
        return 0 if ok else 1
    return 0


def postgres_command(args: argparse.Namespace) -> int:
    if args.action == "up":
        pg_up(args.timeout)
    elif args.action == "down":
        pg_down(kill=args.kill)
    else:
        pid, port = PG.pid(), PG.state().get("port", env_port("PG_PORT", 15432))
        ok = pid is not None and pg_isready(port)
        say(f"postgres: {'running' if ok else 'stopped'} (pid {pid or '-'}, {HOST}:{port})")
        return 0 if ok else 1
    return 0


def ferretdb_command(args: argparse.Namespace) -> int:
    if args.action == "up":
        ferretdb_up(args.timeout)
    elif args.action == "down":
        ferretdb_down(kill=args.kill)
    else:
        pid, port = (
            FERRETDB.pid(),
            FERRETDB.state().get("port", env_port("FERRETDB_PORT", 27018)),
        )
        ok = pid is not None and _quiet(lambda: mongo_ping(port))
        say(
            f"ferretdb: {'running' if ok else 'stopped'} "
            f"(pid {pid or '-'}, mongodb://{HOST}:{port}/)"
        )
        return 0 if ok else 1
    return 0


def _quiet(fn: Callable[[], bool]) -> bool:
    try:
        return bool(fn())
    except Exception:  # noqa: BLE001
        return False


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for each server to become ready (default: SERVERS_TIMEOUT or 60)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="ensure and start PostgreSQL, FerretDB and Kafka (main)")
    p = sub.add_parser("down", help="stop every server this script started")
    p.add_argument("--kill", action="store_true", help="SIGKILL at once instead of a clean stop")
    sub.add_parser("status", help="show what runs (exit 1 unless all main servers answer)")
    sub.add_parser("env", help="print export lines for KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL")

    p = sub.add_parser("kafka", help="one Kafka instance")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--instance", default=MAIN, help="instance name (default: main)")
    p.add_argument("--port", type=int, help="broker port (main: KAFKA_PORT or 19092)")
    p.add_argument(
        "--controller-port",
        type=int,
        help="KRaft controller port (main: KAFKA_CONTROLLER_PORT or 19093)",
    )
    p.add_argument("--kill", action="store_true", help="down: SIGKILL at once (simulates a crash)")
    for name in ("postgres", "ferretdb"):
        p = sub.add_parser(name, help=f"{name} only")
        p.add_argument("action", choices=["up", "down", "status"])
        p.add_argument(
            "--kill", action="store_true", help="down: SIGKILL at once (simulates a crash)"
        )
    add_db_parser(sub)
    return parser


def run_command(args: argparse.Namespace) -> int:
    if args.command == "up":
        up_all(args.timeout)
    elif args.command == "down":
        down_all(kill=args.kill)
    elif args.command == "status":
        return status()
    elif args.command == "env":
        print_env()
    elif args.command == "kafka":
        return kafka_command(args)
    elif args.command == "postgres":
        return postgres_command(args)
    elif args.command == "ferretdb":
        return ferretdb_command(args)
    elif args.command == "db":
        return db_command(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_command(args)
    except Failure as e:
        print(f"servers.py: error: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("servers.py: interrupted", file=sys.stderr)
        return 130
