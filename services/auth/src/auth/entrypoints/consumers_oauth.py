"""The consent-events subscription of the OAuth token side: a revoked or invalidated consent
ends the token families granted under it (`auth.token_revoked.v1`, reason `consent_revoked`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.events.consent import ConsentInvalidated, ConsentRevoked
from shared.kafka.consumer import Delivery, Handler, PermanentError
from shared.kafka.subscribe import subscribe

if TYPE_CHECKING:
    from auth.bootstrap import Container

ACCEPTS = frozenset({ConsentRevoked.TYPE, ConsentInvalidated.TYPE})


def register_consent_events(container: Container) -> None:
    """`consent.events` (`AUTH_CONSENT_EVENTS_TOPIC`), group `AUTH_CONSENT_EVENTS_GROUP`
    (`auth.consent-events`), one at a time, NACK_ON_ERROR with bounded retries, malformed
    records to `<group>.dlq`; idempotent (revoking a revoked family changes nothing and its
    event is published once)."""
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
    revocations = container.oauth.revocations

    async def on_consent_ended(delivery: Delivery) -> None:
        data: Any = delivery.event.data
        if not isinstance(data, ConsentRevoked | ConsentInvalidated):
            raise PermanentError(f"unexpected {delivery.event.type}")  # `accepts` lets none by
        await revocations.revoke_consent(
            user_key=data.user_key,
            app_id=data.app_id,
            consent_id=data.consent_id,
            version=data.version,
        )

    return on_consent_ended
