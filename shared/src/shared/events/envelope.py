"""The one envelope: a CloudEvents 1.0 event in structured JSON mode, with a typed payload."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

import uuid_utils
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from shared.phone import looks_like_phone

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def _not_a_phone_number(value: str) -> str:
    if looks_like_phone(value):
        raise ValueError("looks like a phone number; subjects are internal keys or app ids")
    return value


def _not_a_phone_number_id(value: str) -> str:
    if looks_like_phone(value):
        raise ValueError("looks like a phone number; event ids are UUIDv7s, never user data")
    return value


Identifier = Annotated[
    str,
    Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$"),
    AfterValidator(_not_a_phone_number),
]
"""An opaque internal key (user key, app id, consent id ...): never a phone number."""


class EventData(BaseModel):
    """Base of every payload: frozen, unknown fields ignored (consumers tolerate additions)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]

    def subject(self) -> str:
        """The Kafka key and CloudEvents subject: the internal user key or the app id."""
        raise NotImplementedError


D = TypeVar("D", bound=EventData)


class CloudEvent(BaseModel, Generic[D]):
    """A CloudEvents 1.0 event (structured JSON mode) carrying a typed payload."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_not_a_phone_number_id)]
    source: Annotated[str, Field(min_length=1, max_length=200)]
    type: Annotated[str, Field(pattern=r"^[a-z]+(\.[a-z_]+)+\.v[0-9]+$")]
    time: datetime
    subject: Identifier
    datacontenttype: Literal["application/json"] = "application/json"
    data: D

    def to_bytes(self) -> bytes:
        """The exact bytes that go on the wire."""
        return self.model_dump_json().encode()

    def key(self) -> bytes:
        """The Kafka key: the subject, so one user's events stay in order."""
        return self.subject.encode()


class InvalidEvent(ValueError):
    """The bytes are not a CloudEvent of a known, valid type; the cause says why."""


def new_event_id() -> str:
    """A time-ordered unique event id (UUIDv7)."""
    return str(uuid_utils.uuid7())


def make_event(data: D, *, source: str, event_id: str | None = None) -> CloudEvent[D]:
    """Wrap a payload in the envelope, with a fresh UUIDv7 id and the current UTC time."""
    model: Any = CloudEvent[type(data)]  # type: ignore[misc]
    event: CloudEvent[D] = model(
        id=event_id or new_event_id(),
        source=source,
        type=data.TYPE,
        time=datetime.now(UTC),
        subject=data.subject(),
        data=data,
    )
    return event


@functools.cache
def _envelope(model: type[EventData]) -> type[CloudEvent[Any]]:
    """CloudEvent[model], built once per type (pydantic's own lookup costs ~8 us an event)."""
    return CloudEvent[model]  # type: ignore[valid-type]


def parse_event(raw: bytes, *, registry: dict[str, type[EventData]]) -> CloudEvent[Any]:
    """Parse wire bytes into a typed CloudEvent, or raise InvalidEvent naming the cause."""
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not valid JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise InvalidEvent("not a JSON object")
    event_type = obj.get("type")
    model = registry.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        raise InvalidEvent(f"unknown event type: {event_type!r}")
    try:
        event: CloudEvent[Any] = _envelope(model).model_validate(obj)
    except ValidationError as exc:
        raise InvalidEvent(f"invalid {event_type}: {_short(exc)}") from exc
    if event.subject != event.data.subject():
        raise InvalidEvent(f"subject does not match the payload of {event_type}")
    return event


def _short(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
    )
