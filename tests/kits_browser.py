"""Real-browser testing: Debian's chromium, live HTTP servers, and the checks every page gets.

Playwright's *async* API drives the `chromium` that `scripts/tools.py chromium` installs from
Debian (Playwright's own browser downloads are never used), on pytest-asyncio's session loop
like every other test. Not the sync API (nor pytest-playwright, which is built on it): while a
sync Playwright is open it marks its own loop as running in the main thread, and every async
test after it in the session fails ("Runner.run() cannot be called from a running event loop").
Apps run as real HTTP servers: uvicorn in a thread of its own, with its own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import BrowserContext, Page, Request

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "scripts" / "tools.py"
SCREENSHOTS = REPO / ".local" / "screenshots"  # git-ignored; kept as the run's artefacts
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}
PHONE_VIEWPORT = {"width": 360, "height": 740}


@cache
def chromium_path() -> str:
    """Debian's chromium, installed by `scripts/tools.py chromium` on first use."""
    done = subprocess.run(
        [sys.executable, str(TOOLS), "chromium"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"chromium could not be installed:\n{done.stderr}")
    return done.stdout.strip()


def launch_options() -> dict[str, Any]:
    """`chromium.launch(...)` options: Debian's chromium, headless."""
    # --no-sandbox: the tests run as root, where chromium's sandbox refuses to start.
    return {"executable_path": chromium_path(), "args": ["--no-sandbox"], "headless": True}


def free_socket(host: str = "127.0.0.1") -> socket.socket:
    """A TCP socket bound to a free port (bound now, so no other test takes the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


@contextlib.asynccontextmanager
async def live_server(
    app: Any,
    *,
    lifespan: Literal["on", "off"] = "on",
    timeout_s: float = 30.0,
    sock: socket.socket | None = None,
) -> AsyncIterator[str]:
    """Serve an ASGI app over real HTTP on 127.0.0.1 (its lifespan too); yield its base URL.
    `sock`: a socket from `free_socket()` when the app must know its URL before it starts."""
    sock = sock or free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan=lifespan)
    server = uvicorn.Server(config)
    # A thread of its own with its own event loop (and, off the main thread, uvicorn leaves
    # Ctrl+C alone); a crash there prints its traceback to stderr.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"live-server-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the app did not start on port {port} (its log says why)")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, timeout_s)
        sock.close()


def origin(url: str) -> str:
    """scheme://host:port of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class RequestLog:
    """Every request a browser context made (to prove nothing leaves for another origin)."""

    urls: list[str] = field(default_factory=list)

    def record(self, request: Request) -> None:
        self.urls.append(request.url)

    def foreign(self, *allowed: str) -> list[str]:
        """The requests that went to an origin other than the allowed ones."""
        return [url for url in self.urls if origin(url) not in allowed]


def record_requests(context: BrowserContext) -> RequestLog:
    """Start recording every request of the context (its pages and their subresources)."""
    log = RequestLog()
    context.on("request", log.record)
    return log


async def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2 A and AA violations of the page, one line each (empty when clean)."""
    results = await Axe().run(page, options=WCAG_AA)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
    ]


async def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its viewport (0 means no horizontal scroll)."""
    width: int = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


async def focus_ring(page: Page) -> str:
    """The focused element's outline (`none` would mean a keyboard user cannot see focus)."""
    style: str = await page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return `${s.outlineStyle} ${s.outlineWidth}`; })()"
    )
    return style


async def screenshot(page: Page, *, folder: str, name: str) -> Path:
    """Keep a full-page screenshot under .local/screenshots/<folder>/<name>.png."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", name)
    path = SCREENSHOTS / folder / f"{safe}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path), full_page=True)
    return path
