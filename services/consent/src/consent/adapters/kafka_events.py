"""Consent events onto their topic (`CONSENT_EVENTS_TOPIC`: `consent.events`, or a test's own),
the exact stored bytes, keyed by the user key, acknowledged by the broker within the deadline."""

from __future__ import annotations

from shared.events.envelope import CONTENT_TYPE
from shared.kafka.publisher import DurablePublisher


class KafkaConsentEvents:
    """Publishes a consent version's event through the service's durable publisher."""

    def __init__(self, *, publisher: DurablePublisher, topic: str) -> None:
        self._publisher, self._topic = publisher, topic

    async def publish(self, *, key: str, value: bytes) -> None:
        """Return once acknowledged, else `PublishFailed`."""
        await self._publisher.publish_raw(
            topic=self._topic, value=value, key=key.encode(), headers={"content-type": CONTENT_TYPE}
        )
