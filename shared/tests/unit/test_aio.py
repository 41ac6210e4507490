"""settle: concurrent writes whose failure surfaces only once every one has finished."""

from __future__ import annotations

import asyncio

import pytest

from shared.aio import settle


async def test_results_come_back_in_order() -> None:
    async def value(v: int, delay: float) -> int:
        await asyncio.sleep(delay)
        return v

    assert await settle(value(1, 0.02), value(2, 0.0), value(3, 0.01)) == [1, 2, 3]


async def test_a_failure_is_raised_only_after_the_others_have_finished() -> None:
    finished: list[str] = []

    async def fails() -> None:
        raise ValueError("first")

    async def slow() -> None:
        await asyncio.sleep(0.05)
        finished.append("slow")

    with pytest.raises(ValueError, match="first"):
        await settle(fails(), slow())
    assert finished == ["slow"]  # a retry will not race a write still in flight
