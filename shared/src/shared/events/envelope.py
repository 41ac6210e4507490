"""The one envelope: a CloudEvents 1.0 event in structured JSON mode, with a typed payload."""

from __future__ import annotations

import functools
import json
import re
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


Cause = Literal["undecodable", "invalid", "unknown-type"]
"""Why bytes are not an event: not JSON within the limits, not a valid envelope or payload, or
a well-formed envelope of a type (or version) this code does not know."""

MAX_EVENT_BYTES = 1024 * 1024
"""Largest event accepted (Kafka's default `max.message.bytes`)."""
MAX_DEPTH = 32
"""Deepest nesting of JSON arrays and objects accepted (our contracts use fewer than 6 levels)."""


class InvalidEvent(ValueError):
    """The bytes are not a CloudEvent of a known, valid type; the cause says why.

    The message names the rule broken, never the input's values (it is kept in dead-letter
    headers for good). `event_id` and `event_type` are the envelope's own when it had them.
    """

    def __init__(
        self,
        message: str,
        *,
        cause: Cause = "invalid",
        event_id: str | None = None,
        event_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.cause: Cause = cause
        self.event_id = event_id
        self.event_type = event_type


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
    """Parse wire bytes into a typed CloudEvent, or raise InvalidEvent naming the cause.

    Whatever the bytes, the only exception is InvalidEvent: a record's own fault must reach the
    dead-letter path, never escape it (a deep `[[[...` made `json.loads` raise RecursionError).
    """
    obj = _decode(raw)
    event_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    event_type = obj.get("type") if isinstance(obj.get("type"), str) else None
    model = registry.get(event_type) if event_type is not None else None
    if model is None:
        cause: Cause = "unknown-type" if _TYPE.match(event_type or "") and event_id else "invalid"
        raise InvalidEvent(
            f"unknown event type: {_clip(event_type)}",
            cause=cause,
            event_id=event_id,
            event_type=event_type,
        )
    try:
        event: CloudEvent[Any] = _envelope(model).model_validate(obj)
    except ValidationError as exc:
        raise InvalidEvent(
            f"invalid {event_type}: {_short(exc)}", event_id=event_id, event_type=event_type
        ) from exc
    except Exception as exc:  # any failure to validate is the record's fault
        raise InvalidEvent(
            f"invalid {event_type}: {type(exc).__name__}", event_id=event_id, event_type=event_type
        ) from exc
    if event.subject != event.data.subject():
        raise InvalidEvent(
            f"subject does not match the payload of {event_type}",
            event_id=event_id,
            event_type=event_type,
        )
    return event


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_TYPE = re.compile(r"^[a-z]+(\.[a-z_]+)+\.v[0-9]+$")


def _decode(raw: bytes) -> dict[str, Any]:
    """The JSON object in `raw`, within MAX_EVENT_BYTES and MAX_DEPTH, or InvalidEvent."""
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"larger than {MAX_EVENT_BYTES} bytes", cause="undecodable")
    if _depth(raw) > MAX_DEPTH:
        raise InvalidEvent(f"nested deeper than {MAX_DEPTH} levels", cause="undecodable")
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not valid JSON: {_position(exc)}", cause="undecodable") from exc
    except Exception as exc:  # RecursionError, MemoryError...: the record's fault
        raise InvalidEvent(f"not decodable: {type(exc).__name__}", cause="undecodable") from exc
    if not isinstance(obj, dict):
        raise InvalidEvent("not a JSON object", cause="undecodable")
    return obj


def _depth(raw: bytes) -> int:
    """How deep arrays and objects nest, ignoring brackets inside strings (cheap for events:
    the scan runs only when there are more brackets than the limit)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    for char in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        depth += 1 if char in _OPENING else -1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                break
    return deepest


_OPENING = frozenset(b"[{")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def _position(exc: ValueError) -> str:
    """Where decoding failed, without the input (a UnicodeDecodeError's text quotes bytes)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at character {exc.pos}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 at byte {exc.start}"
    return type(exc).__name__


def _clip(value: str | None) -> str:
    return "none" if value is None else repr(value[:80])


def _short(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
    )
