"""Wire contracts: the CloudEvents envelope and every v1 payload, one module per producer."""

from shared.events.envelope import (
    CONTENT_TYPE,
    CloudEvent,
    EventData,
    InvalidEvent,
    make_event,
    new_event_id,
    parse_event,
)
from shared.events.registry import ALL_TYPES, REGISTRY, parse

__all__ = [
    "ALL_TYPES",
    "CONTENT_TYPE",
    "REGISTRY",
    "CloudEvent",
    "EventData",
    "InvalidEvent",
    "make_event",
    "new_event_id",
    "parse",
    "parse_event",
]
