"""Sound's events on the topics its settings name (`SOUND_EVENTS_TOPIC`, `SOUND_TRANSFERS_TOPIC`),
through the runtime's durable publisher (acks=all, the publish deadline, `PublishFailed`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.events import CloudEvent
from shared.kafka.publisher import DurablePublisher


class RoutedPublisher:
    """Publishes each event to the topic configured for its contract's topic (else that one)."""

    def __init__(self, publisher: DurablePublisher, routes: Mapping[str, str]) -> None:
        self._publisher, self._routes = publisher, dict(routes)

    async def publish(self, event: CloudEvent[Any]) -> Any:
        """Returns once the broker acknowledged it (or raises `PublishFailed` in time)."""
        topic = event.data.TOPIC
        return await self._publisher.publish(event, topic=self._routes.get(topic, topic))
