"""Every Kafka subscription of the audit service, in one place (group and ack policy named)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from audit.service.ingest import LEDGER_TOPICS
from shared.kafka.subscribe import subscribe_batch

if TYPE_CHECKING:
    from audit.bootstrap import Container


def register(container: Container, *, topics: Sequence[str] = LEDGER_TOPICS) -> None:
    """The ledger: every event of every domain topic, in batches, one commit per batch; the
    group's rebalances tell the ingest and the checkpointer which shards are this instance's."""
    runtime = container.runtime
    group = container.settings.ledger_group
    runtime.consumer_groups.append(group)
    subscribe_batch(
        runtime.broker,
        *topics,
        group_id=group,
        handler=container.ingest,
        publisher=runtime.publisher,
        retry=runtime.retry,
        max_records=container.settings.ingest_batch,
        title=f"{group}:on_domain_events",
        listener=container.ownership,
    )
