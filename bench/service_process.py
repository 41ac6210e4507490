"""A service as it is deployed: its app served by uvicorn in a process of its own, on 127.0.0.1.

A figure "through HTTP" measured with the client in the service's own process (httpx's ASGI
transport) charges the client's work to the service and hides the socket and uvicorn's
parsing; here the service has its process (and a core) to itself, as in compose or `make up`,
and the bench's client reaches it over TCP with keep-alive connections.
"""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

READY_TIMEOUT_S = 60.0


def _serve(factory: str, settings: Any, sock: socket.socket) -> None:
    """In the child: build the app with `factory(settings)` and serve it on `sock`."""
    import uvicorn

    module, _, name = factory.partition(":")
    app = getattr(importlib.import_module(module), name)(settings)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


@asynccontextmanager
async def serving(factory: str, settings: Any) -> AsyncIterator[str]:
    """The base URL of `factory(settings)` served in a child process, once `/health/ready`
    answers 200; the process is stopped on the way out."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    child = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(factory, settings, sock), daemon=True
    )
    child.start()
    sock.close()
    try:
        await _ready(url, child)
        yield url
    finally:
        child.terminate()
        await asyncio.to_thread(child.join, 15)
        if child.is_alive():
            child.kill()
            await asyncio.to_thread(child.join, 5)


async def _ready(url: str, child: multiprocessing.process.BaseProcess) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with httpx.AsyncClient(base_url=url, timeout=2.0) as http:
        while True:
            if not child.is_alive():
                raise RuntimeError(f"the service process exited ({child.exitcode})")
            try:
                if (await http.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} was not ready in {READY_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.2)
