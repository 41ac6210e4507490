"""Every Kafka subscription of the consent service, in one place (group and ack policy named)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from consent.domain.model import Terms
from consent.service.auth_events import Declared
from shared.events import REGISTRY
from shared.events.auth import AppRegistered, AppTermsUpdated, UserDeleted
from shared.kafka.consumer import Delivery, Handler, PermanentError
from shared.kafka.subscribe import subscribe

if TYPE_CHECKING:
    from consent.bootstrap import Container

APP_UPDATED = "auth.app_updated.v1"  # auth's app updates, once that contract exists
ACCEPTS = frozenset(
    {AppRegistered.TYPE, AppTermsUpdated.TYPE, UserDeleted.TYPE} | ({APP_UPDATED} & REGISTRY.keys())
)


def register(container: Container) -> None:
    """Auth's events (`CONSENT_AUTH_EVENTS_TOPIC`), group `CONSENT_AUTH_EVENTS_GROUP`, one at a
    time (NACK_ON_ERROR; a malformed record goes to `<group>.dlq`): apps, terms, deletions."""
    group = container.settings.auth_events_group
    subscribe(
        container.runtime,
        container.settings.auth_events_topic,
        group_id=group,
        handler=on_auth_event(container),
        accepts=ACCEPTS,
        title=f"{group}:on_auth_event",
    )


def on_auth_event(container: Container) -> Handler:
    """A typed handler: the pipeline has parsed and validated the event against its contract."""
    handlers = container.auth_events

    async def on_auth_event(delivery: Delivery) -> None:
        data: Any = delivery.event.data
        if isinstance(data, AppTermsUpdated):
            await handlers.terms_updated(
                event_id=delivery.event.id,
                app_id=data.app_id,
                terms=Terms(data.terms_version, tuple(data.recipients), data.retention_days),
                terms_url=data.terms_url,
            )
        elif isinstance(data, UserDeleted):
            await handlers.user_deleted(user_key=data.user_key)
        elif delivery.event.type in (AppRegistered.TYPE, APP_UPDATED):
            await handlers.app_declared(event_id=delivery.event.id, declared=_declared(data))
        else:  # `accepts` lets no other type through
            raise PermanentError(f"unexpected {delivery.event.type}")

    return on_auth_event


def _declared(data: Any) -> Declared:
    """A registration or an update (the update's fields are the registration's)."""
    return Declared(
        app_id=data.app_id,
        name=data.name,
        allowed_scopes=tuple(data.allowed_scopes),
        terms=Terms(data.terms_version, tuple(data.recipients), data.retention_days),
        terms_url=data.terms_url,
        deletion_webhook_url=getattr(data, "deletion_webhook_url", None),
    )
