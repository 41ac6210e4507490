"""Expiry in code (FerretDB has no TTL): ended limit windows, expired codes and sessions."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)
Sweep = Callable[..., Awaitable[int]]


@dataclass
class Sweeper:
    """Runs each sweep every `interval_s`; a failed sweep is logged and tried next round."""

    sweeps: Sequence[Sweep]
    interval_s: float = 60.0
    clock: Callable[[], float] = time.time

    async def once(self) -> int:
        """Run every sweep now; how many documents went."""
        gone = 0
        for sweep in self.sweeps:
            try:
                gone += await sweep(now=self.clock())
            except Exception:
                log.warning("sweep failed; retrying next round", exc_info=True)
        return gone

    async def run(self) -> None:
        """Sweep forever (an owned task of the container)."""
        while True:
            await self.once()
            await asyncio.sleep(self.interval_s)
