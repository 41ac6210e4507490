"""Every Kafka subscription of the example, in one place (group and ack policy named)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kits_example.service.handlers import RecordRevocation
from shared.events.consent import ConsentRevoked
from shared.kafka.consumer import Delivery, Handler, PermanentError
from shared.kafka.subscribe import subscribe
from shared.topics import CONSENT_EVENTS

if TYPE_CHECKING:
    from kits_example.bootstrap import Container


def register(container: Container) -> None:
    """The revoked-consents read model: `consent.revoked.v1` only, one event at a time."""
    group = container.settings.consents_group
    subscribe(
        container.runtime,
        CONSENT_EVENTS,
        group_id=group,
        handler=on_consent_revoked(container),
        accepts=frozenset({ConsentRevoked.TYPE}),
        title=f"{group}:on_consent_revoked",
    )


def on_consent_revoked(container: Container) -> Handler:
    """A typed handler: the pipeline has parsed and validated the event against its contract."""

    async def on_consent_revoked(delivery: Delivery) -> None:
        revoked = delivery.event.data
        if not isinstance(revoked, ConsentRevoked):  # `accepts` lets no other type through
            raise PermanentError(f"expected {ConsentRevoked.TYPE}, got {delivery.event.type}")
        await container.handlers.record_revocation(
            RecordRevocation(
                event_id=delivery.event.id,
                consent_id=revoked.consent_id,
                version=revoked.version,
                user_key=revoked.user_key,
                app_id=revoked.app_id,
                revoked_at=delivery.event.time,
            )
        )

    return on_consent_revoked
