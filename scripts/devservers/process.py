"""Processes this script starts: pid files, recognising them, stopping, spawning, readiness."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from .common import RUN, STOP_TIMEOUTS, Failure, say, step, tail, write_atomic


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
    run_dir: Path = RUN  # its pid, state and log files (a database instance has its own)

    @property
    def pidfile(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    @property
    def statefile(self) -> Path:
        return self.run_dir / f"{self.name}.json"

    def state(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.statefile.read_text())
            return data
        except (OSError, ValueError):
            return {}

    def save(self, pid: int, **info: Any) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
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
        exited = _exited(proc, pid)
        if exited or time.monotonic() - t0 > timeout:
            _give_up(comp, exited, last_err, timeout, proc, pid)
        time.sleep(0.2)


def reuse_running(
    comp: Component, *, pid: int, probe: Callable[[], bool], where: str, timeout: float
) -> None:
    """A server this script started is alive: use it once it answers (waiting if need be)."""
    with contextlib.suppress(Exception):
        if probe():
            say(f"{comp.name}: already running (pid {pid}, {where})")
            return
    step(f"{comp.name}: pid {pid} alive but not answering yet, waiting ...")
    wait_ready(comp, probe, timeout, pid=pid)


def _exited(proc: subprocess.Popen[bytes] | None, pid: int | None) -> str | None:
    """Why the process being waited for is gone, or None while it runs."""
    if proc is not None and proc.poll() is not None:
        return f"exited with status {proc.returncode}"
    if pid is not None and not pid_alive(pid):
        return "exited"
    return None


def _give_up(
    comp: Component,
    exited: str | None,
    last_err: str,
    timeout: float,
    proc: subprocess.Popen[bytes] | None,
    pid: int | None,
) -> NoReturn:
    """wait_ready's failure: stop what we started (unless it exited), forget it, raise."""
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
    raise Failure(f"{comp.name}: {why}. Last lines of {comp.logfile}:\n{tail(comp.logfile)}")
