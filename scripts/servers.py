#!/usr/bin/env python3
"""Local servers without Docker: PostgreSQL, FerretDB (MongoDB wire protocol) and Kafka.

Standard library only (Python 3.11). All state lives in the git-ignored folder
``.local/`` at the repository root:

    .local/cache/kafka-jars/     Kafka + log4j jars copied by Maven (scripts/kafka/pom.xml)
    .local/cache/bin/ferretdb    FerretDB built from scripts/ferretdb (rebuilt on source change)
    .local/kafka/<instance>/     server.properties, instance.json, data/ (KRaft log dirs)
    .local/pg/data/              PostgreSQL cluster (owned by the postgres user when run as root)
    .local/run/                  <name>.pid, <name>.log, lock files

Usage:
    scripts/servers.py up | down | status | env
    scripts/servers.py kafka up|down|status [--instance NAME] [--port P] [--controller-port C]
    scripts/servers.py postgres up|down|status
    scripts/servers.py ferretdb up|down|status

Ports (all on 127.0.0.1) come from KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093),
PG_PORT (15432) and FERRETDB_PORT (27018). Readiness is polled (SERVERS_TIMEOUT, default 60 s).

Only processes this script started (found through its pid files) are ever stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
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
def locked(name: str) -> Iterator[None]:
    """Serialise work on one component between concurrent invocations."""
    ensure_dirs()
    fd = os.open(RUN / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            step(f"waiting for another servers.py working on {name} ...")
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


# --------------------------------------------------------------------------- processes


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    except (OSError, IndexError):
        pass
    return True


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


@dataclass
class Component:
    """One managed process: its pid file, log and how to recognise it."""

    name: str  # e.g. "postgres", "ferretdb", "kafka-main"
    marker: str  # a string its command line must contain (guards against pid reuse)
    kind: str  # "postgres" | "ferretdb" | "kafka"

    @property
    def pidfile(self) -> Path:
        return RUN / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return RUN / f"{self.name}.log"

    @property
    def statefile(self) -> Path:
        return RUN / f"{self.name}.json"

    def state(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.statefile.read_text())
            return data
        except (OSError, ValueError):
            return {}

    def save(self, pid: int, **info: Any) -> None:
        write_atomic(self.pidfile, f"{pid}\n")
        write_atomic(self.statefile, json.dumps({"pid": pid, **info}, indent=2) + "\n")

    def forget(self) -> None:
        for p in (self.pidfile, self.statefile):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def pid(self) -> int | None:
        """The pid from the pid file if that process is alive and is ours; else None."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        if pid <= 1 or not pid_alive(pid):
            return None
        if self.marker not in " ".join(cmdline(pid)):
            return None  # pid reused by another program
        return pid

    def clear_stale(self) -> None:
        if self.pidfile.exists() and self.pid() is None:
            step(f"{self.name}: removing stale pid file")
            self.forget()


def stop_pid(
    comp: Component,
    pid: int,
    sig: int = signal.SIGTERM,
    kill: bool = False,
    timeout: float | None = None,
) -> None:
    timeout = STOP_TIMEOUTS[comp.kind] if timeout is None else timeout
    t0 = time.monotonic()
    if kill:
        sig = signal.SIGKILL
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = t0 + (5.0 if kill else timeout)
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            break
        time.sleep(0.1)
    else:
        if not kill:
            step(f"{comp.name}: still running after {timeout:.0f} s, sending SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            end = time.monotonic() + 10
            while pid_alive(pid) and time.monotonic() < end:
                time.sleep(0.1)
        if pid_alive(pid):
            raise Failure(f"{comp.name}: pid {pid} does not stop")
    how = "killed" if kill else "stopped"
    step(f"{comp.name}: {how} pid {pid} in {time.monotonic() - t0:.1f} s")


def stop_component(comp: Component, sig: int = signal.SIGTERM, kill: bool = False) -> bool:
    pid = comp.pid()
    if pid is None:
        if comp.pidfile.exists():
            step(f"{comp.name}: not running (removing stale pid file)")
        else:
            step(f"{comp.name}: not running")
        comp.forget()
        return False
    stop_pid(comp, pid, sig=sig, kill=kill)
    comp.forget()
    return True


def spawn(comp: Component, cmd: list[str], cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a detached process with stdout/stderr appended to its log."""
    with open(comp.logfile, "ab") as log:
        log.write(
            f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(cmd)}\n".encode()
        )
        log.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    return proc


def wait_ready(
    comp: Component,
    probe: Callable[[], bool],
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
    pid: int | None = None,
) -> float:
    """Poll probe() until it returns True. On failure stop what we started, show the log, raise."""
    t0 = time.monotonic()
    last_err = ""
    while True:
        try:
            if probe():
                return time.monotonic() - t0
        except Exception as e:  # noqa: BLE001 - any probe error means "not yet"
            last_err = f"{type(e).__name__}: {e}"
        exited = None
        if proc is not None and proc.poll() is not None:
            exited = f"exited with status {proc.returncode}"
        elif pid is not None and not pid_alive(pid):
            exited = "exited"
        if exited or time.monotonic() - t0 > timeout:
            why = exited or f"not ready after {timeout:.0f} s"
            if last_err:
                why += f" (last probe error: {last_err})"
            if not exited:
                victim = proc.pid if proc is not None else pid
                if victim is not None and pid_alive(victim):
                    with contextlib.suppress(Failure):
                        stop_pid(comp, victim, sig=signal.SIGTERM, timeout=10)
            if proc is not None:
                with contextlib.suppress(Exception):
                    proc.wait(timeout=1)
            comp.forget()
            raise Failure(
                f"{comp.name}: {why}. Last lines of {comp.logfile}:\n{tail(comp.logfile)}"
            )
        time.sleep(0.2)


# --------------------------------------------------------------------------- protocol probes


def kafka_probe(port: int, timeout: float = 2.0) -> bool:
    """True when the broker answers ApiVersions and a Metadata request that lists a broker."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.settimeout(timeout)
        client = b"servers.py"

        def request(api_key: int, version: int, corr: int, body: bytes) -> bytes:
            header = struct.pack(">hhih", api_key, version, corr, len(client)) + client
            msg = header + body
            s.sendall(struct.pack(">i", len(msg)) + msg)
            size = struct.unpack(">i", recv_exact(s, 4))[0]
            resp = recv_exact(s, size)
            if struct.unpack(">i", resp[:4])[0] != corr:
                raise ConnectionError("correlation id mismatch")
            return resp[4:]

        # ApiVersions v0: error_code int16, [api_key int16, min int16, max int16]
        resp = request(18, 0, 1, b"")
        error, count = struct.unpack(">hi", resp[:6])
        if error != 0:
            raise ConnectionError(f"ApiVersions error code {error}")
        versions = {}
        for i in range(count):
            key, lo, hi = struct.unpack(">hhh", resp[6 + 6 * i : 12 + 6 * i])
            versions[key] = (lo, hi)
        if 3 not in versions:
            raise ConnectionError("broker does not list Metadata")
        lo, hi = versions[3]
        # Non-flexible Metadata versions 1..8 are enough to count brokers.
        v = min(hi, 8)
        if v < max(lo, 1):
            return True  # cannot ask Metadata without flexible encoding: ApiVersions must do
        body = struct.pack(">i", 0)  # topics: empty array (no topics)
        if v >= 4:
            body += b"\x00"  # allow_auto_topic_creation
        if v >= 8:
            body += b"\x00\x00"  # include_*_authorized_operations
        resp = request(3, v, 2, body)
        off = 4 if v >= 3 else 0  # throttle_time_ms
        brokers = struct.unpack(">i", resp[off : off + 4])[0]
        if brokers < 1:
            raise ConnectionError("metadata lists no broker yet")
        return True


def _bson_doc(items: list[tuple[str, object]]) -> bytes:
    out = bytearray()
    for key, value in items:
        k = key.encode() + b"\0"
        if isinstance(value, bool):
            out += b"\x08" + k + (b"\x01" if value else b"\x00")
        elif isinstance(value, int):
            out += b"\x10" + k + struct.pack("<i", value)
        elif isinstance(value, str):
            v = value.encode() + b"\0"
            out += b"\x02" + k + struct.pack("<i", len(v)) + v
        else:
            raise TypeError(type(value))
    return struct.pack("<i", len(out) + 5) + bytes(out) + b"\0"


def _bson_ok(doc: bytes) -> float | None:
    """The top-level 'ok' field of a BSON document (only the types a reply uses for it)."""
    i, end = 4, struct.unpack("<i", doc[:4])[0] - 1
    sizes = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x10: 4, 0x11: 8, 0x12: 8, 0x0A: 0, 0x13: 16}
    while i < end:
        t = doc[i]
        j = doc.index(b"\0", i + 1)
        name = doc[i + 1 : j]
        i = j + 1
        if name == b"ok":
            if t == 0x01:
                return float(struct.unpack("<d", doc[i : i + 8])[0])
            if t == 0x10:
                return float(struct.unpack("<i", doc[i : i + 4])[0])
            if t == 0x12:
                return float(struct.unpack("<q", doc[i : i + 8])[0])
            if t == 0x08:
                return float(doc[i])
            return None
        if t in sizes:
            i += sizes[t]
        elif t in (0x02, 0x0D, 0x0E):  # string-like: int32 length + bytes
            i += 4 + struct.unpack("<i", doc[i : i + 4])[0]
        elif t in (0x03, 0x04):  # document / array
            i += struct.unpack("<i", doc[i : i + 4])[0]
        elif t == 0x05:  # binary
            i += 5 + struct.unpack("<i", doc[i : i + 4])[0]
        else:
            return None
    return None


def mongo_ping(port: int, timeout: float = 2.0) -> bool:
    """OP_MSG {ping: 1, $db: "admin"}; True when the reply says ok: 1."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.settimeout(timeout)
        body = struct.pack("<I", 0) + b"\x00" + _bson_doc([("ping", 1), ("$db", "admin")])
        header = struct.pack("<iiii", 16 + len(body), 1, 0, 2013)
        s.sendall(header + body)
        length, _req, resp_to, opcode = struct.unpack("<iiii", recv_exact(s, 16))
        payload = recv_exact(s, length - 16)
        if opcode != 2013 or resp_to != 1:
            raise ConnectionError(f"unexpected reply opcode {opcode}")
        if payload[4] != 0:
            raise ConnectionError("unexpected OP_MSG section kind")
        ok = _bson_ok(payload[5:])
        if ok != 1.0:
            raise ConnectionError(f"ping answered ok={ok}")
        return True


# --------------------------------------------------------------------------- PostgreSQL

PG = Component("postgres", marker=str(PG_DATA), kind="postgres")


def pg_bindir() -> Path | None:
    found = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        with contextlib.suppress(ValueError):
            found.append((int(initdb.parent.parent.name), initdb.parent))
    if found:
        return max(found)[1]
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def pg_ensure_installed() -> Path:
    bindir = pg_bindir()
    if bindir:
        return bindir
    if os.geteuid() != 0:
        raise Failure(
            "PostgreSQL is not installed; run: "
            "sudo apt-get update && sudo apt-get install -y postgresql"
        )
    step("postgres: not installed, running apt-get install -y postgresql (takes a while) ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update"], "apt-get update", env=env, timeout=600)
    run(
        ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"],
        "apt-get install postgresql",
        env=env,
        timeout=1200,
    )
    bindir = pg_bindir()
    if not bindir:
        raise Failure(
            "postgres: apt-get installed postgresql but "
            "no initdb was found under /usr/lib/postgresql"
        )
    return bindir


def pg_as_user() -> list[str]:
    """Prefix that runs a command as the cluster owner (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--"]
    return []


def pg_owner() -> pwd.struct_passwd:
    if os.geteuid() == 0:
        try:
            return pwd.getpwnam(PG_USER)
        except KeyError:
            raise Failure(
                f"postgres: running as root but there is no '{PG_USER}' user "
                "(apt-get install postgresql creates it)"
            ) from None
    return pwd.getpwuid(os.geteuid())


def pg_make_traversable(owner: pwd.struct_passwd) -> None:
    """The cluster owner must reach .local/pg: add o+x where a path component lacks it."""
    if os.geteuid() != 0:
        return
    groups = {g for g in os.getgrouplist(owner.pw_name, owner.pw_gid)}
    for d in reversed([PG_HOME, *PG_HOME.parents]):
        st = d.stat()
        if st.st_uid == owner.pw_uid:
            ok = st.st_mode & 0o100
        elif st.st_gid in groups:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            step(f"postgres: chmod o+x {d} (so user {owner.pw_name} can reach {PG_DATA})")
            os.chmod(d, st.st_mode | 0o001)


def pg_conf(port: int) -> str:
    return (
        "# written by scripts/servers.py on every start\n"
        f"listen_addresses = '{HOST}'\n"
        f"port = {port}\n"
        "unix_socket_directories = ''\n"
        "max_connections = 200\n"
        "logging_collector = off\n"
    )


def pg_up(timeout: float) -> int:
    port = env_port("PG_PORT", 15432)
    with locked("postgres"):
        ensure_dirs()
        pid = PG.pid()
        if pid is not None:
            running = PG.state().get("port")
            if running != port:
                raise Failure(
                    f"postgres is running on port {running}, not {port}: "
                    "run `servers.py postgres down` first"
                )
            if pg_isready(port):
                say(f"postgres: already running (pid {pid}, {HOST}:{port})")
                pg_ensure_db(port)
                return port
            step(f"postgres: pid {pid} alive but not answering yet, waiting ...")
            wait_ready(PG, lambda: pg_isready(port), timeout, pid=pid)
            pg_ensure_db(port)
            return port
        PG.clear_stale()
        if port_open(port):
            raise Failure(
                f"postgres: port {HOST}:{port} is already used by a process "
                "this script did not start (set PG_PORT)"
            )

        bindir = pg_ensure_installed()
        owner = pg_owner()
        PG_HOME.mkdir(parents=True, exist_ok=True)
        pg_make_traversable(owner)
        t0 = time.monotonic()
        if not (PG_DATA / "PG_VERSION").exists():
            step(f"postgres: initdb {PG_DATA}")
            PG_DATA.mkdir(parents=True, exist_ok=True)
            os.chown(PG_DATA, owner.pw_uid, owner.pw_gid)
            os.chmod(PG_DATA, 0o700)
            run(
                [
                    *pg_as_user(),
                    str(bindir / "initdb"),
                    "-D",
                    str(PG_DATA),
                    "-U",
                    PG_USER,
                    "--auth-local=trust",
                    "--auth-host=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ],
                "initdb",
                cwd=PG_HOME,
                timeout=300,
            )
            conf = PG_DATA / "postgresql.conf"
            with open(conf, "a") as f:
                f.write("\ninclude_if_exists = 'servers_local.conf'\n")
        local_conf = PG_DATA / "servers_local.conf"
        write_atomic(local_conf, pg_conf(port))
        os.chown(local_conf, owner.pw_uid, owner.pw_gid)
        # pg_ctl appends to the log as the cluster owner
        PG.logfile.touch()
        os.chown(PG.logfile, owner.pw_uid, owner.pw_gid)
        with open(PG.logfile, "a") as f:
            f.write(
                f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} starting postgres on {HOST}:{port}\n"
            )

        step(f"postgres: starting on {HOST}:{port}")
        run(
            [
                *pg_as_user(),
                str(bindir / "pg_ctl"),
                "-D",
                str(PG_DATA),
                "-l",
                str(PG.logfile),
                "-W",
                "start",
            ],
            "pg_ctl start",
            cwd=PG_HOME,
            timeout=60,
        )
        # postmaster.pid appears a moment after pg_ctl returns
        pid = None
        deadline = time.monotonic() + timeout
        while pid is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = int((PG_DATA / "postmaster.pid").read_text().splitlines()[0])
            if pid is None:
                time.sleep(0.1)
        if pid is None:
            raise Failure(
                f"postgres: no postmaster.pid after {timeout:.0f} s. "
                f"Last lines of {PG.logfile}:\n{tail(PG.logfile)}"
            )
        PG.save(pid, port=port, data=str(PG_DATA))
        wait_ready(PG, lambda: pg_isready(port), timeout, pid=pid)
        pg_ensure_db(port)
        say(f"postgres: ready in {time.monotonic() - t0:.1f} s (pid {pid}, {HOST}:{port})")
        return port


def pg_isready(port: int) -> bool:
    bindir = pg_bindir()
    cmd = [
        str(bindir / "pg_isready") if bindir else "pg_isready",
        "-q",
        "-h",
        HOST,
        "-p",
        str(port),
        "-U",
        PG_USER,
        "-d",
        "postgres",
        "-t",
        "2",
    ]
    return (
        subprocess.run(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ).returncode
        == 0
    )


def pg_ensure_db(port: int) -> None:
    bindir = pg_bindir()
    psql = str(bindir / "psql") if bindir else "psql"
    base = [
        psql,
        "-h",
        HOST,
        "-p",
        str(port),
        "-U",
        PG_USER,
        "-d",
        "postgres",
        "-X",
        "-q",
        "-t",
        "-A",
    ]
    out = run(
        [*base, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{PG_DATABASE}'"],
        "psql",
        timeout=30,
    )
    if out.strip() != "1":
        step(f"postgres: creating database {PG_DATABASE}")
        run([*base, "-c", f'CREATE DATABASE "{PG_DATABASE}"'], "create database", timeout=30)


def pg_down(kill: bool = False) -> None:
    with locked("postgres"):
        # SIGINT is PostgreSQL's "fast" shutdown (SIGTERM waits for every client to leave).
        stop_component(PG, sig=signal.SIGINT, kill=kill)


# --------------------------------------------------------------------------- FerretDB

FERRETDB = Component("ferretdb", marker=str(FERRETDB_BIN), kind="ferretdb")


def ferretdb_sources_hash() -> str:
    h = hashlib.sha256()
    for name in FERRETDB_SOURCES:
        h.update(name.encode() + b"\0" + (FERRETDB_SRC / name).read_bytes() + b"\0")
    return h.hexdigest()


def ferretdb_build() -> None:
    stamp = FERRETDB_BIN.with_name("ferretdb.sha256")
    want = ferretdb_sources_hash()
    if FERRETDB_BIN.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return
    go = shutil.which("go")
    if not go:
        raise Failure("ferretdb: Go is not installed (needed once to build scripts/ferretdb)")
    FERRETDB_BIN.parent.mkdir(parents=True, exist_ok=True)
    step("ferretdb: building scripts/ferretdb (first time: about a minute) ...")
    t0 = time.monotonic()
    tmp = FERRETDB_BIN.with_name("ferretdb.tmp")
    run(
        [go, "build", "-mod=readonly", "-trimpath", "-buildvcs=false", "-o", str(tmp), "."],
        "go build (scripts/ferretdb)",
        cwd=FERRETDB_SRC,
        timeout=1800,
    )
    os.replace(tmp, FERRETDB_BIN)
    write_atomic(stamp, want + "\n")
    step(f"ferretdb: built in {time.monotonic() - t0:.1f} s")


def ferretdb_up(timeout: float, pg_port: int | None = None) -> int:
    if pg_port is None:  # FerretDB needs its PostgreSQL
        pg_port = pg_up(timeout)
    port = env_port("FERRETDB_PORT", 27018)
    with locked("ferretdb"):
        pid = FERRETDB.pid()
        if pid is not None:
            st = FERRETDB.state()
            if st.get("port") != port or st.get("pg_port") != pg_port:
                raise Failure(
                    f"ferretdb is running on port {st.get('port')} (postgres {st.get('pg_port')}), "
                    f"not {port} (postgres {pg_port}): run `servers.py ferretdb down` first"
                )
            with contextlib.suppress(Exception):
                if mongo_ping(port):
                    say(f"ferretdb: already running (pid {pid}, mongodb://{HOST}:{port}/)")
                    return port
            step(f"ferretdb: pid {pid} alive but not answering yet, waiting ...")
            wait_ready(FERRETDB, lambda: mongo_ping(port), timeout, pid=pid)
            return port
        FERRETDB.clear_stale()
        if port_open(port):
            raise Failure(
                f"ferretdb: port {HOST}:{port} is already used by a process "
                "this script did not start (set FERRETDB_PORT)"
            )
        with locked("ferretdb-build"):
            ferretdb_build()
        t0 = time.monotonic()
        url = f"postgres://{PG_USER}@{HOST}:{pg_port}/{PG_DATABASE}"
        step(f"ferretdb: starting on {HOST}:{port}")
        proc = spawn(
            FERRETDB,
            [str(FERRETDB_BIN), "-listen", f"{HOST}:{port}", "-postgresql-url", url],
            cwd=LOCAL,
        )
        FERRETDB.save(proc.pid, port=port, pg_port=pg_port)
        wait_ready(FERRETDB, lambda: mongo_ping(port), timeout, proc=proc)
        say(
            f"ferretdb: ready in {time.monotonic() - t0:.1f} s (pid {proc.pid}, mongodb://{HOST}:{port}/)"
        )
        return port


def ferretdb_down(kill: bool = False) -> None:
    with locked("ferretdb"):
        stop_component(FERRETDB, kill=kill)


# --------------------------------------------------------------------------- Kafka

INSTANCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$")


def kafka_component(instance: str) -> Component:
    return Component(
        f"kafka-{instance}", marker=str(KAFKA_HOME / instance / "server.properties"), kind="kafka"
    )


def kafka_instances() -> list[str]:
    if not KAFKA_HOME.is_dir():
        return []
    names = [p.name for p in KAFKA_HOME.iterdir() if (p / "instance.json").exists()]
    return sorted(names, key=lambda n: (n != MAIN, n))


def kafka_instance_info(instance: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((KAFKA_HOME / instance / "instance.json").read_text())
        return data
    except (OSError, ValueError):
        return {}


def kafka_ports(instance: str, port: int | None, cport: int | None) -> tuple[int, int]:
    """--flag, then (main only) the environment, then the recorded ports, then defaults."""
    info = kafka_instance_info(instance)
    if port is None and instance == MAIN and os.environ.get("KAFKA_PORT"):
        port = env_port("KAFKA_PORT", 19092)
    if cport is None and instance == MAIN and os.environ.get("KAFKA_CONTROLLER_PORT"):
        cport = env_port("KAFKA_CONTROLLER_PORT", 19093)
    port = port or info.get("port")
    cport = cport or info.get("controller_port")
    if instance == MAIN:
        port = port or 19092
        cport = cport or 19093
    if not port or not cport:
        raise Failure(
            f"kafka instance '{instance}' is new: give it --port and --controller-port "
            f"(the main instance uses {env_port('KAFKA_PORT', 19092)}/"
            f"{env_port('KAFKA_CONTROLLER_PORT', 19093)})"
        )
    if port == cport:
        raise Failure("kafka: --port and --controller-port must differ")
    return int(port), int(cport)


def java_bin() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if not java:
        raise Failure(
            "kafka: java is not installed "
            "(Java 17+ is needed; e.g. apt-get install -y openjdk-17-jre-headless)"
        )
    return java


def kafka_jars() -> Path:
    """Copy the broker's jars with Maven once; again only when scripts/kafka/pom.xml changes."""
    stamp = KAFKA_JARS / ".pom.sha256"
    want = hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()
    if (
        stamp.exists()
        and stamp.read_text().strip() == want
        and any(KAFKA_JARS.glob("kafka_2.13-*.jar"))
    ):
        return KAFKA_JARS
    mvn = shutil.which("mvn")
    if not mvn:
        raise Failure(
            "kafka: Maven (mvn) is not installed "
            "(needed once to fetch the Kafka jars; apt-get install -y maven)"
        )
    step("kafka: fetching jars with Maven (first time: ~10-20 s) ...")
    t0 = time.monotonic()
    tmp = CACHE / "kafka-jars.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    run(
        [
            mvn,
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(KAFKA_POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={tmp}",
        ],
        "mvn dependency:copy-dependencies",
        timeout=1200,
    )
    if not any(tmp.glob("kafka_2.13-*.jar")):
        raise Failure(f"kafka: Maven finished but {tmp} has no kafka_2.13 jar")
    (tmp / ".pom.sha256").write_text(want + "\n")
    shutil.rmtree(KAFKA_JARS, ignore_errors=True)
    os.replace(tmp, KAFKA_JARS)
    step(f"kafka: {len(list(KAFKA_JARS.glob('*.jar')))} jars in {time.monotonic() - t0:.1f} s")
    return KAFKA_JARS


def kafka_properties(instance_dir: Path, port: int, cport: int) -> str:
    return "\n".join(
        [
            "# written by scripts/servers.py on every start",
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.bootstrap.servers={HOST}:{cport}",
            f"listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={instance_dir / 'data'}",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            "broker.session.timeout.ms=3000",
            "broker.heartbeat.interval.ms=500",
            "",
        ]
    )


def kafka_up(instance: str, port: int | None, cport: int | None, timeout: float) -> int:
    if not INSTANCE_RE.match(instance):
        raise Failure(f"kafka: bad instance name {instance!r} (letters, digits, - and _)")
    comp = kafka_component(instance)
    with locked(comp.name):
        ensure_dirs()
        port, cport = kafka_ports(instance, port, cport)
        pid = comp.pid()
        if pid is not None:
            st = comp.state()
            if (st.get("port"), st.get("controller_port")) != (port, cport):
                raise Failure(
                    f"{comp.name} is running on ports "
                    f"{st.get('port')}/{st.get('controller_port')}, "
                    f"not {port}/{cport}: run `servers.py kafka down --instance {instance}` first"
                )
            with contextlib.suppress(Exception):
                if kafka_probe(port):
                    say(f"{comp.name}: already running (pid {pid}, {HOST}:{port})")
                    return port
            step(f"{comp.name}: pid {pid} alive but not answering yet, waiting ...")
            wait_ready(comp, lambda: kafka_probe(port), timeout, pid=pid)
            return port
        comp.clear_stale()
        for p in (port, cport):
            if port_open(p):
                raise Failure(
                    f"{comp.name}: port {HOST}:{p} is already used by a process "
                    "this script did not start"
                )

        java = java_bin()
        with locked("kafka-jars"):
            jars = kafka_jars()
        classpath = f"{jars}/*"
        idir = KAFKA_HOME / instance
        idir.mkdir(parents=True, exist_ok=True)
        info = kafka_instance_info(instance)
        formatted = (idir / "data" / "meta.properties").exists()
        if formatted and info.get("controller_port") not in (None, cport):
            raise Failure(
                f"{comp.name}: its storage was formatted with controller port "
                f"{info['controller_port']} "
                f"(the KRaft voter set remembers it); use that port, "
                f"or delete {idir} to start afresh"
            )
        props = idir / "server.properties"
        write_atomic(props, kafka_properties(idir, port, cport))
        log4j = f"-Dlog4j2.configurationFile={KAFKA_LOG4J}"
        t0 = time.monotonic()
        if not formatted:
            step(f"{comp.name}: formatting storage in {idir / 'data'}")
            cluster_id = (
                info.get("cluster_id")
                or run(
                    [java, log4j, "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"],
                    "StorageTool random-uuid",
                    timeout=120,
                )
                .strip()
                .splitlines()[-1]
                .strip()
            )
            run(
                [
                    java,
                    log4j,
                    "-cp",
                    classpath,
                    "kafka.tools.StorageTool",
                    "format",
                    "--standalone",
                    "-t",
                    cluster_id,
                    "-c",
                    str(props),
                ],
                "StorageTool format",
                timeout=120,
            )
            info["cluster_id"] = cluster_id
        info.update(port=port, controller_port=cport)
        write_atomic(idir / "instance.json", json.dumps(info, indent=2) + "\n")

        step(f"{comp.name}: starting on {HOST}:{port} (controller {cport})")
        cmd = [
            java,
            "-Xms256m",
            "-Xmx512m",
            "-Djava.awt.headless=true",
            log4j,
            "-cp",
            classpath,
            "kafka.Kafka",
            str(props),
        ]
        proc = spawn(comp, cmd, cwd=idir)
        comp.save(proc.pid, port=port, controller_port=cport)
        wait_ready(comp, lambda: kafka_probe(port), timeout, proc=proc)
        say(f"{comp.name}: ready in {time.monotonic() - t0:.1f} s (pid {proc.pid}, {HOST}:{port})")
        return port


def kafka_down(instance: str, kill: bool = False) -> None:
    comp = kafka_component(instance)
    with locked(comp.name):
        stop_component(comp, kill=kill)


# --------------------------------------------------------------------------- status / env


def main_ports() -> dict[str, int]:
    kinfo = kafka_instance_info(MAIN)
    kport = env_port("KAFKA_PORT", kinfo.get("port") or 19092)
    return {
        "kafka": kport,
        "postgres": env_port("PG_PORT", 15432),
        "ferretdb": env_port("FERRETDB_PORT", 27018),
    }


def status() -> int:
    rows = []
    all_up = True
    ports = main_ports()

    def row(
        comp: Component, port: int, probe: Callable[[], bool], address: str, required: bool
    ) -> None:
        nonlocal all_up
        pid = comp.pid()
        if pid is None:
            state = "stale pid file" if comp.pidfile.exists() else "stopped"
            if port_open(port):
                state += f" (port {port} used by another process)"
            all_up = all_up and not required
            rows.append((comp.name, state, "-", address))
            return
        try:
            answering = bool(probe())
        except Exception:  # noqa: BLE001
            answering = False
        state = "running" if answering else "running, NOT answering"
        all_up = all_up and (answering or not required)
        rows.append((comp.name, state, str(pid), address))

    pg_port = PG.state().get("port", ports["postgres"])
    row(PG, pg_port, lambda: pg_isready(pg_port), f"{HOST}:{pg_port}", True)
    fd_port = FERRETDB.state().get("port", ports["ferretdb"])
    row(FERRETDB, fd_port, lambda: mongo_ping(fd_port), f"mongodb://{HOST}:{fd_port}/", True)
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
        row(comp, kport, functools.partial(kafka_probe, kport), f"{HOST}:{kport}", inst == MAIN)
    width = max(len(r[0]) for r in rows)
    for name, state, pid, addr in rows:
        say(f"{name:<{width}}  {state:<22}  pid {pid:<8}  {addr}")
    return 0 if all_up else 1


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
    ferretdb_down(kill=kill)
    pg_down(kill=kill)


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
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

    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            up_all(args.timeout)
        elif args.command == "down":
            down_all(kill=args.kill)
        elif args.command == "status":
            return status()
        elif args.command == "env":
            print_env()
        elif args.command == "kafka":
            if args.action == "up":
                kafka_up(args.instance, args.port, args.controller_port, args.timeout)
            elif args.action == "down":
                kafka_down(args.instance, kill=args.kill)
            else:
                comp = kafka_component(args.instance)
                pid = comp.pid()
                port = int(
                    comp.state().get("port") or kafka_instance_info(args.instance).get("port") or 0
                )
                ok = pid is not None and port > 0 and _quiet(functools.partial(kafka_probe, port))
                say(
                    f"{comp.name}: "
                    f"{'running' if ok else 'stopped' if pid is None else 'NOT answering'}"
                    f" (pid {pid or '-'}, {HOST}:{port})"
                )
                return 0 if ok else 1
        elif args.command == "postgres":
            if args.action == "up":
                pg_up(args.timeout)
            elif args.action == "down":
                pg_down(kill=args.kill)
            else:
                pid, port = PG.pid(), PG.state().get("port", env_port("PG_PORT", 15432))
                ok = pid is not None and pg_isready(port)
                say(f"postgres: {'running' if ok else 'stopped'} (pid {pid or '-'}, {HOST}:{port})")
                return 0 if ok else 1
        elif args.command == "ferretdb":
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
                    f"ferretdb: {'running' if ok else 'stopped'} (pid {pid or '-'}, mongodb://{HOST}:{port}/)"
                )
                return 0 if ok else 1
    except Failure as e:
        print(f"servers.py: error: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("servers.py: interrupted", file=sys.stderr)
        return 130
    return 0


def _quiet(fn: Callable[[], bool]) -> bool:
    try:
        return bool(fn())
    except Exception:  # noqa: BLE001
        return False


if __name__ == "__main__":
    sys.exit(main())
