"""The dead-letter writer: a record that is at fault goes, unchanged, to its group's `<group>.dlq`.

The dead letter keeps the original value, key, headers and timestamp, so an operator can look at
it and re-drive it once its cause is fixed (`kits-dlq`). The `dlq-*` headers say where it came
from and why; the error text is redacted, since a dead-letter topic is kept for good and a
validation error would otherwise carry the input's values into it.
"""

from __future__ import annotations

import base64
import logging
import re
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from aiokafka.structs import ConsumerRecord

from shared.kafka.publisher import DurablePublisher
from shared.logging import redact
from shared.topics import dead_letter_topic

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 1000
DeadLetterCause = Literal["undecodable", "invalid", "unknown-type", "rejected"]
"""Why a record was parked: see `shared.events.envelope.Cause`; `rejected`: the handler said
the record breaks a rule (`PermanentError`)."""
_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|\]|$)", re.DOTALL)


def redact_error(text: str) -> str:
    """An error text fit to keep for good: no input values, nothing shaped like a phone number."""
    return redact(_INPUT_VALUE.sub("input_value=[redacted]", text))[:MAX_ERROR_CHARS]


class DeadLetterSink(Protocol):
    """Where records go that are at fault: the pipeline's one outgoing port."""

    async def send(
        self,
        *,
        record: ConsumerRecord[Any, Any],
        error: BaseException,
        cause: DeadLetterCause,
        attempts: int,
    ) -> None:
        """Park the record durably with the cause, or raise."""


class DeadLetters:
    """Writes a record at fault, unchanged, to its group's dead-letter topic with the cause."""

    def __init__(self, *, publisher: DurablePublisher, group_id: str) -> None:
        self._publisher = publisher
        self.group_id = group_id
        self.topic = dead_letter_topic(group_id).name

    async def send(
        self,
        *,
        record: ConsumerRecord[Any, Any],
        error: BaseException,
        cause: DeadLetterCause,
        attempts: int,
    ) -> None:
        """Publish durably; raises PublishFailed if even that is impossible."""
        key = record.key if isinstance(record.key, bytes) else None
        value = record.value if isinstance(record.value, bytes) else b""
        ours = self._headers(record=record, error=error, cause=cause, attempts=attempts)
        original = [(k, v) for k, v in record.headers or () if k not in ours]
        await self._publisher.publish_record(
            topic=self.topic,
            value=value,
            key=key,
            headers=[*original, *((k, v.encode()) for k, v in ours.items())],
            timestamp_ms=record.timestamp if record.timestamp >= 0 else None,
        )
        log.warning(
            "dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "cause": cause,
                "error_type": type(error).__name__,
            },
        )

    def _headers(
        self,
        *,
        record: ConsumerRecord[Any, Any],
        error: BaseException,
        cause: DeadLetterCause,
        attempts: int,
    ) -> dict[str, str]:
        """Where the record came from and why it is here (its error text redacted)."""
        key = record.key if isinstance(record.key, bytes) else None
        return {
            "dlq-origin-topic": record.topic,
            "dlq-origin-partition": str(record.partition),
            "dlq-origin-offset": str(record.offset),
            "dlq-origin-key": base64.b64encode(key).decode() if key is not None else "",
            "dlq-origin-timestamp": str(record.timestamp),
            "dlq-group": self.group_id,
            "dlq-cause": cause,
            "dlq-error-type": type(error).__name__,
            "dlq-error": redact_error(str(error)),
            "dlq-attempts": str(attempts),
            "dlq-failed-at": datetime.now(UTC).isoformat(),
        }
