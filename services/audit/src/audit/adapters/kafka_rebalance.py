"""Which shards this instance writes: the ledger group's partitions assigned to it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from aiokafka import ConsumerRebalanceListener, TopicPartition

from audit.domain.ledger import shard_name
from audit.verify.checkpoint import ShardHead

log = logging.getLogger(__name__)


def _shards(partitions: Iterable[TopicPartition]) -> set[str]:
    return {shard_name(topic=tp.topic, partition=tp.partition) for tp in partitions}


class ShardOwnership(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Hears the group's rebalances: the shards of revoked partitions are forgotten (another
    member writes them now) and released from memory, and newly assigned ones are forgotten
    too (whatever was held of them from an earlier ownership is stale: they are reloaded
    from the store before the next append)."""

    def __init__(
        self,
        *,
        forget: Callable[[Iterable[str]], None],
        release: Callable[[Iterable[str]], None] = lambda _: None,
    ) -> None:
        self._forget, self._release = forget, release
        self._owned: set[str] = set()

    def owned(self) -> frozenset[str]:
        """The shards of the partitions assigned to this instance now."""
        return frozenset(self._owned)

    def live(self, heads: dict[str, ShardHead]) -> dict[str, ShardHead]:
        """Only the heads of owned shards (an append in flight at a revocation may have put
        back a shard another member writes now)."""
        return {shard: head for shard, head in heads.items() if shard in self._owned}

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Stop claiming these shards before another member may write them."""
        shards = _shards(revoked)
        self._owned -= shards
        self._forget(shards)
        self._release(shards)  # their hashes and ids too: memory holds what this one writes
        log.info("ledger shards revoked: %s", ",".join(sorted(shards)) or "none")

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        """Own these shards, reloading each from the store on its next append."""
        shards = _shards(assigned)
        self._forget(shards)
        self._owned |= shards
        log.info("ledger shards assigned: %s", ",".join(sorted(shards)) or "none")
