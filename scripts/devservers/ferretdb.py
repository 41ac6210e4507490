"""FerretDB: build scripts/ferretdb with Go, start it on its PostgreSQL, OP_MSG ping, stop."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import struct
import time

from .common import (
    FERRETDB_BIN,
    FERRETDB_SOURCES,
    FERRETDB_SRC,
    HOST,
    LOCAL,
    PG_DATABASE,
    PG_USER,
    Failure,
    env_port,
    locked,
    port_open,
    recv_exact,
    run,
    say,
    step,
    write_atomic,
)
from .postgres import pg_up
from .process import Component, reuse_running, spawn, stop_component, wait_ready

# --------------------------------------------------------------------------- protocol probe


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


def ferretdb_up(
    timeout: float,
    pg_port: int | None = None,
    *,
    comp: Component = FERRETDB,
    port: int | None = None,
) -> int:
    """Start (or reuse) FerretDB `comp` on its PostgreSQL (the main one: on FERRETDB_PORT)."""
    if pg_port is None:  # FerretDB needs its PostgreSQL
        pg_port = pg_up(timeout)
    port = port or env_port("FERRETDB_PORT", 27018)
    with locked(comp.name):
        pid = comp.pid()
        if pid is not None:
            return _ferretdb_running(comp, pid, port, pg_port, timeout)
        comp.clear_stale()
        if port_open(port):
            raise Failure(
                f"{comp.name}: port {HOST}:{port} is already used by a process "
                "this script did not start (choose another port)"
            )
        with locked("ferretdb-build"):
            ferretdb_build()
        t0 = time.monotonic()
        url = f"postgres://{PG_USER}@{HOST}:{pg_port}/{PG_DATABASE}"
        step(f"{comp.name}: starting on {HOST}:{port}")
        proc = spawn(
            comp,
            [str(FERRETDB_BIN), "-listen", f"{HOST}:{port}", "-postgresql-url", url],
            cwd=LOCAL,
        )
        comp.save(proc.pid, port=port, pg_port=pg_port)
        wait_ready(comp, lambda: mongo_ping(port), timeout, proc=proc)
        say(
            f"{comp.name}: ready in {time.monotonic() - t0:.1f} s "
            f"(pid {proc.pid}, mongodb://{HOST}:{port}/)"
        )
        return port


def _ferretdb_running(comp: Component, pid: int, port: int, pg_port: int, timeout: float) -> int:
    """ferretdb_up when ours is alive: check its ports, wait until it answers."""
    st = comp.state()
    if st.get("port") != port or st.get("pg_port") != pg_port:
        raise Failure(
            f"{comp.name} is running on port {st.get('port')} (postgres {st.get('pg_port')}), "
            f"not {port} (postgres {pg_port}): stop it first"
        )
    reuse_running(
        comp,
        pid=pid,
        probe=lambda: mongo_ping(port),
        where=f"mongodb://{HOST}:{port}/",
        timeout=timeout,
    )
    return port


def ferretdb_down(kill: bool = False, *, comp: Component = FERRETDB) -> None:
    """Stop FerretDB `comp` (SIGTERM, or SIGKILL with `kill`)."""
    with locked(comp.name):
        stop_component(comp, kill=kill)
