"""Every Kafka subscription of the auth service, in one place (group and ack policy named)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auth.entrypoints.consumers_oauth import register_consent_events

if TYPE_CHECKING:
    from auth.bootstrap import Container


def register(container: Container) -> None:
    """Subscribe the service's handlers: consent's events end token families (OAuth, H1)."""
    register_consent_events(container)
