"""Every topic in one place: name, partitions, retention, and what its key is."""

from __future__ import annotations

from dataclasses import dataclass

FOREVER = -1


@dataclass(frozen=True)
class TopicSpec:
    """A topic the project creates explicitly (never auto-created)."""

    name: str
    partitions: int
    retention_ms: int
    key: str

    def configs(self) -> dict[str, str]:
        """Topic-level configs passed at creation."""
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": "delete"}


# All domain topics share one partition count so that one subject lands on the same partition
# number in each of them (same key, same default partitioner).
DOMAIN_PARTITIONS = 6

AUTH_EVENTS = "auth.events"
CONSENT_EVENTS = "consent.events"
SOUND_EVENTS = "sound.events"
TRANSFER_EVENTS = "transfer.events"
AUDIT_EVENTS = "audit.events"

# The audit ledger is replayed from every domain topic, so all of them keep data forever;
# DESIGN.md requires it at least for transfers, consents and the audit's own checkpoints.
DOMAIN_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(AUTH_EVENTS, DOMAIN_PARTITIONS, FOREVER, "user key or app id"),
    TopicSpec(CONSENT_EVENTS, DOMAIN_PARTITIONS, FOREVER, "user key"),
    TopicSpec(SOUND_EVENTS, DOMAIN_PARTITIONS, FOREVER, "user key"),
    TopicSpec(TRANSFER_EVENTS, DOMAIN_PARTITIONS, FOREVER, "user key"),
    TopicSpec(AUDIT_EVENTS, DOMAIN_PARTITIONS, FOREVER, "log origin or user key"),
)


def dead_letter_topic(group_id: str) -> TopicSpec:
    """The dead-letter topic of one consumer group: the original record, causes in headers."""
    return TopicSpec(f"{group_id}.dlq", 1, FOREVER, "the original record's key")
