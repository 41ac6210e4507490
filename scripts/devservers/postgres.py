"""PostgreSQL: install (apt), initdb under .local/pg/data, start with pg_ctl, readiness, stop."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from .common import (
    HOST,
    PG_DATA,
    PG_HOME,
    PG_USER,
    Failure,
    ensure_dirs,
    env_port,
    locked,
    port_open,
    run,
    say,
    step,
    tail,
    write_atomic,
)
from .pg_client import pg_bindir, pg_ensure_db, pg_isready
from .process import Component, stop_component, wait_ready

PG = Component("postgres", marker=str(PG_DATA), kind="postgres")


@dataclass(frozen=True)
class PgSite:
    """Where one PostgreSQL cluster lives: its process (pid file, log) and its folder."""

    comp: Component
    home: Path

    @property
    def data(self) -> Path:
        return self.home / "data"


MAIN_PG = PgSite(PG, PG_HOME)


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


def pg_make_traversable(owner: pwd.struct_passwd, home: Path) -> None:
    """The cluster owner must reach .local/pg: add o+x where a path component lacks it."""
    if os.geteuid() != 0:
        return
    groups = {g for g in os.getgrouplist(owner.pw_name, owner.pw_gid)}
    for d in reversed([home, *home.parents]):
        st = d.stat()
        if st.st_uid == owner.pw_uid:
            ok = st.st_mode & 0o100
        elif st.st_gid in groups:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            step(f"postgres: chmod o+x {d} (so user {owner.pw_name} can reach {home})")
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


def pg_up(timeout: float, *, site: PgSite = MAIN_PG, port: int | None = None) -> int:
    """Start (or reuse) the cluster of `site` (the main one: on PG_PORT); return its port."""
    port = port or env_port("PG_PORT", 15432)
    name = site.comp.name
    with locked(name):
        ensure_dirs()
        pid = site.comp.pid()
        if pid is not None:
            return _pg_running(site, pid, port, timeout)
        site.comp.clear_stale()
        if port_open(port):
            raise Failure(
                f"{name}: port {HOST}:{port} is already used by a process "
                "this script did not start (choose another port)"
            )

        bindir = pg_ensure_installed()
        owner = pg_owner()
        site.home.mkdir(parents=True, exist_ok=True)
        pg_make_traversable(owner, site.home)
        t0 = time.monotonic()
        if not (site.data / "PG_VERSION").exists():
            _pg_initdb(bindir, owner, site)
        _pg_prepare(port, owner, site)
        pid = _pg_start(bindir, port, timeout, site)
        site.comp.save(pid, port=port, data=str(site.data))
        wait_ready(site.comp, lambda: pg_isready(port), timeout, pid=pid)
        pg_ensure_db(port)
        say(f"{name}: ready in {time.monotonic() - t0:.1f} s (pid {pid}, {HOST}:{port})")
        return port


def _pg_running(site: PgSite, pid: int, port: int, timeout: float) -> int:
    """pg_up when our postmaster is alive: check its port, wait until it answers."""
    running = site.comp.state().get("port")
    if running != port:
        raise Failure(f"{site.comp.name} is running on port {running}, not {port}: stop it first")
    if pg_isready(port):
        say(f"{site.comp.name}: already running (pid {pid}, {HOST}:{port})")
        pg_ensure_db(port)
        return port
    step(f"{site.comp.name}: pid {pid} alive but not answering yet, waiting ...")
    wait_ready(site.comp, lambda: pg_isready(port), timeout, pid=pid)
    pg_ensure_db(port)
    return port


def _pg_initdb(bindir: Path, owner: pwd.struct_passwd, site: PgSite) -> None:
    step(f"{site.comp.name}: initdb {site.data}")
    site.data.mkdir(parents=True, exist_ok=True)
    os.chown(site.data, owner.pw_uid, owner.pw_gid)
    os.chmod(site.data, 0o700)
    run(
        [
            *pg_as_user(),
            str(bindir / "initdb"),
            "-D",
            str(site.data),
            "-U",
            PG_USER,
            "--auth-local=trust",
            "--auth-host=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        "initdb",
        cwd=site.home,
        timeout=300,
    )
    with open(site.data / "postgresql.conf", "a") as f:
        f.write("\ninclude_if_exists = 'servers_local.conf'\n")


def _pg_prepare(port: int, owner: pwd.struct_passwd, site: PgSite) -> None:
    """Write servers_local.conf and open the log for the cluster owner."""
    local_conf = site.data / "servers_local.conf"
    write_atomic(local_conf, pg_conf(port))
    os.chown(local_conf, owner.pw_uid, owner.pw_gid)
    # pg_ctl appends to the log as the cluster owner
    log = site.comp.logfile
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    os.chown(log, owner.pw_uid, owner.pw_gid)
    with open(log, "a") as f:
        f.write(
            f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} starting postgres on {HOST}:{port}\n"
        )


def _pg_start(bindir: Path, port: int, timeout: float, site: PgSite) -> int:
    """pg_ctl start; return the postmaster's pid."""
    stale = _postmaster_pid(site)  # a killed postmaster's, still in its file
    # Until init reaps it, a killed postmaster is a zombie whose pid PostgreSQL's lock-file
    # check takes for a running postmaster: wait until the pid is gone.
    gone = time.monotonic() + 10
    while stale is not None and Path(f"/proc/{stale}").exists() and time.monotonic() < gone:
        time.sleep(0.1)
    step(f"{site.comp.name}: starting on {HOST}:{port}")
    run(
        [
            *pg_as_user(),
            str(bindir / "pg_ctl"),
            "-D",
            str(site.data),
            "-l",
            str(site.comp.logfile),
            "-W",
            "start",
        ],
        "pg_ctl start",
        cwd=site.home,
        timeout=60,
    )
    # postmaster.pid appears (or is rewritten) a moment after pg_ctl returns
    pid = None
    deadline = time.monotonic() + timeout
    while pid is None and time.monotonic() < deadline:
        pid = _postmaster_pid(site)
        if pid is None or pid == stale:
            pid = None
            time.sleep(0.1)
    if pid is None:
        raise Failure(
            f"{site.comp.name}: no postmaster.pid after {timeout:.0f} s. "
            f"Last lines of {site.comp.logfile}:\n{tail(site.comp.logfile)}"
        )
    return pid


def _postmaster_pid(site: PgSite) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((site.data / "postmaster.pid").read_text().splitlines()[0])
    return None


def pg_down(kill: bool = False, *, site: PgSite = MAIN_PG) -> None:
    """Stop the cluster of `site` (fast shutdown, or SIGKILL with `kill`)."""
    with locked(site.comp.name):
        # SIGINT is PostgreSQL's "fast" shutdown (SIGTERM waits for every client to leave).
        stop_component(site.comp, sig=signal.SIGINT, kill=kill)
