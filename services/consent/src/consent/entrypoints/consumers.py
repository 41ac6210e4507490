"""Every Kafka subscription of the consent service, in one place (group and ack policy named)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from consent.bootstrap import Container


def register(container: Container) -> None:
    """Subscribe the service's handlers; none yet in the foundation."""
    del container
