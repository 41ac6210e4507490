"""Every Kafka subscription of the audit service, in one place (group and ack policy named)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from audit.service.ingest import LEDGER_TOPICS
from shared.kafka.subscribe import subscribe_batch

if TYPE_CHECKING:
    from audit.bootstrap import Container


def register(container: Container) -> None:
    """The ledger: every event of every domain topic, in batches, one commit per batch."""
    runtime = container.runtime
    group = container.settings.ledger_group
    runtime.consumer_groups.append(group)
    subscribe_batch(
        runtime.broker,
        *LEDGER_TOPICS,
        group_id=group,
        handler=container.ingest,
        publisher=runtime.publisher,
        retry=runtime.retry,
        max_records=container.settings.ingest_batch,
        title=f"{group}:on_domain_events",
    )
