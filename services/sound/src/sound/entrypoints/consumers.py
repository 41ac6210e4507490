"""Every Kafka subscription of the sound service, in one place (group and ack policy named)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.events.consent import ConsentInvalidated, ConsentRevoked
from shared.kafka.consumer import Delivery, Handler, PermanentError
from shared.kafka.subscribe import subscribe

if TYPE_CHECKING:
    from sound.bootstrap import Container

ACCEPTS = frozenset({ConsentRevoked.TYPE, ConsentInvalidated.TYPE})


def register(container: Container) -> None:
    """`consent.events` (`SOUND_CONSENT_EVENTS_TOPIC`), group `SOUND_CONSENT_EVENTS_GROUP`
    (`sound.consent-events`), one at a time, NACK_ON_ERROR with bounded retries, malformed
    records to `<group>.dlq`; idempotent (an ended upload is not ended twice)."""
    group = container.settings.consent_events_group
    subscribe(
        container.runtime,
        container.settings.consent_events_topic,
        group_id=group,
        handler=on_consent_ended(container),
        accepts=ACCEPTS,
        title=f"{group}:on_consent_ended",
    )


def on_consent_ended(container: Container) -> Handler:
    """A typed handler of `consent.revoked.v1` and `consent.invalidated.v1`."""
    uploads = container.uploads

    async def on_consent_ended(delivery: Delivery) -> None:
        data: Any = delivery.event.data
        if not isinstance(data, ConsentRevoked | ConsentInvalidated):
            raise PermanentError(f"unexpected {delivery.event.type}")
        await uploads.end_consent(user_key=data.user_key, app_id=data.app_id)

    return on_consent_ended
