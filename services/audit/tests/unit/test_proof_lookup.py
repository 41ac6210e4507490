"""A user's entry lookup is narrowed to the partition their user key is produced to."""

from __future__ import annotations

from typing import Any

import pytest

from audit.service.proofs import AUDITOR, NotFound, ProofService, Reader


class FakeLedger:
    """Remembers the partition each lookup was narrowed to; holds no entries."""

    def __init__(self) -> None:
        self.asked: list[int | None] = []

    async def entry(self, event_id: str, *, partition: int | None = None) -> Any:
        self.asked.append(partition)


async def test_a_users_lookup_searches_only_their_partition_and_an_auditors_is_not_narrowed() -> (
    None
):
    ledger = FakeLedger()
    proofs = ProofService(
        ledger=ledger,  # type: ignore[arg-type]  # only `entry` is called
        checkpoints=None,  # type: ignore[arg-type]
        partition_of=lambda key: {"uk_alice": 7}[key],
    )
    for reader, partition in [(Reader(user_key="uk_alice"), None), (AUDITOR, None), (AUDITOR, 2)]:
        with pytest.raises(NotFound):
            await proofs.inclusion("e1", checkpoint_id=None, partition=partition, reader=reader)
    assert ledger.asked == [7, None, 2]
