"""Every Kafka subscription of the audit service, in one place (group and ack policy named)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.kafka.subscribe import subscribe_mirror

if TYPE_CHECKING:
    from audit.bootstrap import Container


def register(container: Container) -> None:
    """The ledger: every record of every domain topic, in batches, one commit per batch."""
    group = container.settings.ledger_group
    subscribe_mirror(
        container.runtime,
        *container.settings.ledger_topic_names,
        group_id=group,
        handler=container.ingest,
        max_records=container.settings.ingest_batch,
        title=f"{group}:on_domain_events",
    )
