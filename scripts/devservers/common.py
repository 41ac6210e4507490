"""Paths, settings, output and small helpers shared by every server of scripts/servers.py."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPTS = REPO / "scripts"
LOCAL = REPO / ".local"
CACHE = LOCAL / "cache"
RUN = LOCAL / "run"
KAFKA_JARS = CACHE / "kafka-jars"
FERRETDB_BIN = CACHE / "bin" / "ferretdb"
KAFKA_HOME = LOCAL / "kafka"
PG_HOME = LOCAL / "pg"
PG_DATA = PG_HOME / "data"

KAFKA_POM = SCRIPTS / "kafka" / "pom.xml"
KAFKA_LOG4J = SCRIPTS / "kafka" / "log4j2.xml"
FERRETDB_SRC = SCRIPTS / "ferretdb"
FERRETDB_SOURCES = ("go.mod", "go.sum", "main.go")

HOST = "127.0.0.1"
PG_USER = "postgres"
PG_DATABASE = "ferretdb"
MAIN = "main"

DEFAULT_TIMEOUT = float(os.environ.get("SERVERS_TIMEOUT", "60"))
STOP_TIMEOUTS = {"kafka": 30.0, "ferretdb": 15.0, "postgres": 30.0}


class Failure(Exception):
    """A user-facing error: printed without a traceback, exit status 1."""


# --------------------------------------------------------------------------- output


def say(msg: str) -> None:
    print(msg, flush=True)


def step(msg: str) -> None:
    print(f"  - {msg}", flush=True)


def tail(path: Path, lines: int = 40) -> str:
    try:
        data = path.read_bytes()[-64 * 1024 :]
    except OSError:
        return f"(no log at {path})"
    text = data.decode("utf-8", "replace").splitlines()[-lines:]
    return "\n".join(f"    | {line}" for line in text) or "    | (log is empty)"


# --------------------------------------------------------------------------- helpers


def env_port(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        port = int(value)
    except ValueError:
        raise Failure(f"{name}={value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise Failure(f"{name}={value!r} is not a port number")
    return port


def ensure_dirs() -> None:
    for d in (LOCAL, CACHE, RUN, KAFKA_HOME):
        d.mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def locked(
    name: str, *, tell: Callable[[str], None] = step, who: str = "servers.py"
) -> Iterator[None]:
    """Serialise work on one component (or tool) between concurrent invocations."""
    ensure_dirs()
    fd = os.open(RUN / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            tell(f"waiting for another {who} working on {name} ...")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def run(
    cmd: list[str],
    what: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> str:
    """Run a command, return its output; on failure raise with the output's tail."""
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise Failure(f"{what}: command not found: {cmd[0]}") from None
    except subprocess.TimeoutExpired as e:
        raise Failure(
            f"{what}: timed out after {timeout:.0f} s: {' '.join(cmd)}\n{e.output or ''}"
        ) from None
    if proc.returncode != 0:
        out = "\n".join(f"    | {line}" for line in proc.stdout.splitlines()[-40:])
        raise Failure(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{out}")
    return proc.stdout


def port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)
