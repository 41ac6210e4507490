#!/usr/bin/env python3
"""Developer tools the project builds and caches itself (no Docker needed).

Standard library only (Python 3.11). Everything built lives in the git-ignored folder
``.local/`` at the repository root:

    .local/cache/bin/cmd              what `go install .../compose-go/v2/cmd@<version>` produced
    .local/cache/bin/compose-loader   the same binary under a name that says what it is
    .local/run/compose-loader.lock    serialises concurrent builds
    .local/run/chromium.lock          serialises concurrent installs of the browser

Usage:
    scripts/tools.py compose-loader     build once (cached), then print the loader's path
    scripts/tools.py chromium           install Debian's chromium if missing, print its path

The compose loader is the Compose Specification's reference loader (compose-go, the library
Docker Compose itself uses). Run it as

    cd <folder of the compose file> && .local/cache/bin/compose-loader --format json FILE [OVERRIDE]

It prints the normalised project (YAML by default, JSON with ``--format json``) and exits 0,
or names the schema error on stderr (no trailing newline) and exits 1. Other flags:
--no-interpolation, --no-path-resolution, --no-normalization, --no-consistency. Relative paths
(build contexts, volumes) resolve against the *working directory*, not the file's folder, and
the OS environment, a ./.env and COMPOSE_FILE are read, as `docker compose` would. It checks the
schema only: a `depends_on` naming an undefined service still exits 0.

The browser tests drive Debian's `chromium` package with Playwright (Playwright's own browser
downloads are not used: its download hosts are not reachable from every machine that runs the
tests). `chromium` installs it with apt-get when it is not on PATH (as root; ~20-90 s, ~480 MB)
and does nothing otherwise, so the tests can call it every run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from devservers.common import CACHE, locked

BIN = CACHE / "bin"

COMPOSE_GO_MODULE = "github.com/compose-spec/compose-go/v2"
COMPOSE_GO_VERSION = "v2.16.2"
COMPOSE_GO_PACKAGE = f"{COMPOSE_GO_MODULE}/cmd@{COMPOSE_GO_VERSION}"
GO_INSTALLED = BIN / "cmd"  # `go install` names the binary after the package directory
COMPOSE_LOADER = BIN / "compose-loader"


class Failure(Exception):
    """A tool could not be built; the message says why."""


def step(message: str) -> None:
    """Progress goes to stderr so stdout carries only the result (a path)."""
    print(f"[tools] {message}", file=sys.stderr, flush=True)


def is_compose_loader(path: Path) -> bool:
    """True if `path` is compose-go's cmd at the pinned version.

    Go embeds its build info (main module path and version) as plain text in the binary, so
    this needs no Go toolchain. It guards against a different `.../cmd` package (or another
    compose-go version) having been `go install`ed into the same GOBIN under the name `cmd`.
    """
    if not path.is_file() or not os.access(path, os.X_OK):
        return False
    marker = f"{COMPOSE_GO_MODULE}\t{COMPOSE_GO_VERSION}\t".encode()
    try:
        return marker in path.read_bytes()
    except OSError:
        return False


def ensure_compose_loader() -> Path:
    """Build compose-go's loader once (`go install`, ~1-2 min cold), return its path."""
    if is_compose_loader(COMPOSE_LOADER):
        return COMPOSE_LOADER
    with locked("compose-loader", tell=step, who="tools.py"):
        if is_compose_loader(COMPOSE_LOADER):  # built meanwhile by a concurrent invocation
            return COMPOSE_LOADER
        BIN.mkdir(parents=True, exist_ok=True)
        if not is_compose_loader(GO_INSTALLED):
            go = shutil.which("go")
            if not go:
                raise Failure("`go` is not on PATH; it is needed once to build the compose loader")
            step(f"go install {COMPOSE_GO_PACKAGE} (GOBIN={BIN}) ...")
            started = time.monotonic()
            env = {**os.environ, "GOBIN": str(BIN)}
            try:
                done = subprocess.run(
                    [go, "install", COMPOSE_GO_PACKAGE],
                    env=env,
                    cwd=BIN,  # outside any module, so `@version` resolves on its own
                    capture_output=True,
                    text=True,
                    timeout=1800,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise Failure(f"go install {COMPOSE_GO_PACKAGE} timed out") from exc
            if done.returncode != 0:
                raise Failure(
                    f"go install {COMPOSE_GO_PACKAGE} failed (exit {done.returncode}):\n"
                    f"{done.stderr.strip()}"
                )
            if not is_compose_loader(GO_INSTALLED):
                raise Failure(f"go install succeeded but {GO_INSTALLED} is not compose-go's cmd")
            step(f"built in {time.monotonic() - started:.1f} s")
        # Keep `cmd` (the cache key) and give the same binary a telling name, atomically.
        tmp = COMPOSE_LOADER.with_name(COMPOSE_LOADER.name + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            os.link(GO_INSTALLED, tmp)
        except OSError:
            shutil.copy2(GO_INSTALLED, tmp)
        os.replace(tmp, COMPOSE_LOADER)
    return COMPOSE_LOADER


def ensure_chromium() -> Path:
    """Debian's chromium: its path, installed with apt-get (as root) when it is missing."""
    if found := shutil.which("chromium"):
        return Path(found)
    with locked("chromium", tell=step, who="tools.py"):
        if found := shutil.which("chromium"):  # installed meanwhile by a concurrent invocation
            return Path(found)
        if os.geteuid() != 0:
            raise Failure(
                "chromium is not installed; run: sudo apt-get update && "
                "sudo apt-get install -y chromium"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        started = time.monotonic()
        for what, cmd in (
            ("apt-get update", ["apt-get", "update", "-q"]),
            ("apt-get install chromium", ["apt-get", "install", "-y", "-q", "chromium"]),
        ):
            step(f"{what} ...")
            done = subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=1200, check=False
            )
            if done.returncode != 0:
                raise Failure(f"{what} failed (exit {done.returncode}):\n{done.stderr.strip()}")
        found = shutil.which("chromium")
        if not found:
            raise Failure("apt-get installed chromium but `chromium` is not on PATH")
        step(f"chromium installed in {time.monotonic() - started:.1f} s")
        return Path(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(__doc__ or "").split("\n\n", 1)[-1],
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "compose-loader",
        help=f"build (once) compose-go {COMPOSE_GO_VERSION}'s loader; print its path",
    )
    sub.add_parser("chromium", help="install Debian's chromium if it is missing; print its path")
    args = parser.parse_args(argv)
    try:
        if args.command == "compose-loader":
            print(ensure_compose_loader())
        elif args.command == "chromium":
            print(ensure_chromium())
    except Failure as exc:
        print(f"[tools] error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
