"""`Runtime.stop` ends even when a step never returns (a broker that stopped answering)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from shared import runtime as runtime_module
from shared.runtime import Runtime


class Step:
    """A stand-in for the broker, the watch or the client: its stop or close hangs or not."""

    def __init__(self, *, hangs: bool) -> None:
        self.hangs, self.called = hangs, False

    async def _end(self) -> None:
        self.called = True
        if self.hangs:
            await asyncio.Event().wait()  # never set: a stop that never returns

    async def stop(self) -> None:
        await self._end()

    async def close(self) -> None:
        await self._end()


async def test_a_hanging_step_is_cut_off_and_the_rest_still_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runtime_module, "STOP_TIMEOUT_S", 0.2)
    broker, watch, client = Step(hangs=True), Step(hangs=False), Step(hangs=False)
    parts: Any = {"broker": broker, "watch": watch, "client": client}
    rt = Runtime(settings=None, publisher=None, db=None, **parts)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="shared.runtime"):
        await asyncio.wait_for(rt.stop(), 5)
    assert [broker.called, watch.called, client.called] == [True, True, True]
    assert "stopping the broker took over" in caplog.text


class Broken(Step):
    async def _end(self) -> None:
        self.called = True
        raise RuntimeError("the broker's stop failed")


async def test_a_failing_step_does_not_skip_the_next(caplog: pytest.LogCaptureFixture) -> None:
    broker, watch, client = Broken(hangs=False), Step(hangs=False), Step(hangs=False)
    parts: Any = {"broker": broker, "watch": watch, "client": client}
    rt = Runtime(settings=None, publisher=None, db=None, **parts)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="shared.runtime"):
        await rt.stop()
    assert [watch.called, client.called] == [True, True]
    assert "stopping the broker failed" in caplog.text
