"""Composition root: the only place that reads configuration and builds adapters."""

from __future__ import annotations

from dataclasses import dataclass

from audit.config import AuditSettings
from audit.entrypoints import consumers
from shared.events import audit
from shared.runtime import Runtime, declare_publications

PUBLISHES = (
    audit.CheckpointSigned,
    audit.ViolationDetected,
)


@dataclass
class Container:
    """What the entry points of the audit service are handed."""

    settings: AuditSettings
    runtime: Runtime


def bootstrap(settings: AuditSettings | None = None) -> Container:
    """Build (without connecting) everything the audit service needs."""
    settings = settings or AuditSettings()
    runtime = Runtime.build(settings)
    declare_publications(runtime.broker, PUBLISHES)
    container = Container(settings=settings, runtime=runtime)
    consumers.register(container)
    return container
