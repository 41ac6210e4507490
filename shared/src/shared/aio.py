"""Small asyncio helpers the services share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def settle(*awaitables: Awaitable[Any]) -> list[Any]:
    """Run the awaitables together and return their results in order; if any failed, raise
    the first failure, but only once all have finished, so a retry never races a write still
    in flight."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
