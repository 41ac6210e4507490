"""Every Kafka subscription of the audit service, in one place (group and ack policy named)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shared.kafka.subscribe import subscribe_mirror

if TYPE_CHECKING:
    from audit.bootstrap import Container


def register(container: Container, *, topics: Sequence[str] | None = None) -> None:
    """The ledger: every record of its topics (`AUDIT_LEDGER_TOPICS`), in batches, one commit
    per batch; the group's rebalances tell the ingest and the checkpointer which shards are
    this instance's."""
    group = container.settings.ledger_group
    subscribe_mirror(
        container.runtime,
        *(topics or container.settings.ledger_topic_names),
        group_id=group,
        handler=container.ingest,
        max_records=container.settings.ingest_batch,
        title=f"{group}:on_domain_events",
        listener=container.ownership,
    )
