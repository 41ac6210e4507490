"""Durable publish with a deadline: acknowledged by the broker (acks=all), or an error in time.

FastStream's own publish can block for a whole broker outage without raising (SERVERS.md), so
"record first, else 503" paths need this bound around it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka.structs import RecordMetadata
from faststream.kafka import KafkaBroker

from shared.events.envelope import CONTENT_TYPE, CloudEvent


class PublishFailed(RuntimeError):
    """The broker did not acknowledge the record within the deadline; treat it as not sent."""


class DurablePublisher:
    """Publishes CloudEvents to their contract's topic, keyed by subject, awaiting the ack."""

    def __init__(self, *, broker: KafkaBroker, deadline_s: float) -> None:
        self._broker = broker
        self._deadline_s = deadline_s

    async def publish(
        self, event: CloudEvent[Any], *, traceparent: str | None = None, topic: str | None = None
    ) -> RecordMetadata:
        """Publish one event; returns once the broker acknowledged it. `topic`: another topic
        than its contract's (a service's configured one)."""
        return (await self.publish_many([event], traceparent=traceparent, topic=topic))[0]

    async def publish_many(
        self,
        events: Sequence[CloudEvent[Any]],
        *,
        traceparent: str | None = None,
        topic: str | None = None,
    ) -> list[RecordMetadata]:
        """Publish several events at once (pipelined); all acknowledged, or PublishFailed."""
        headers = _headers(traceparent)
        sends = [
            self._send(
                topic=topic or event.data.TOPIC,
                value=event.to_bytes(),
                key=event.key(),
                headers=headers,
            )
            for event in events
        ]
        return await self._within_deadline(sends)

    async def publish_raw(
        self, *, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]
    ) -> RecordMetadata:
        """Publish bytes as they are, unchecked, within the deadline (the bench publishes its
        prepared events this way, and tests their malformed records)."""
        return (
            await self._within_deadline(
                [self._send(topic=topic, value=value, key=key, headers=dict(headers))]
            )
        )[0]

    async def publish_record(
        self,
        *,
        topic: str,
        value: bytes,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes]],
        timestamp_ms: int | None = None,
    ) -> RecordMetadata:
        """Publish a record exactly as given, headers and timestamp included (a dead letter, or
        one re-driven from the dead-letter topic); FastStream's publish would add headers."""
        producer = _aiokafka_producer(self._broker)
        send = producer.send_and_wait(
            topic, value=value, key=key, headers=list(headers), timestamp_ms=timestamp_ms
        )
        return (await self._within_deadline([send]))[0]

    async def _send(
        self, *, topic: str, value: bytes, key: bytes | None, headers: dict[str, str]
    ) -> RecordMetadata:
        return await self._broker.publish(value, topic, key=key, headers=headers)

    async def _within_deadline(self, sends: list[Any]) -> list[RecordMetadata]:
        tasks = [asyncio.ensure_future(send) for send in sends]
        try:
            async with asyncio.timeout(self._deadline_s):
                return list(await asyncio.gather(*tasks))
        except TimeoutError as exc:
            raise PublishFailed(
                f"broker did not acknowledge within {self._deadline_s:.1f}s"
            ) from exc
        except Exception as exc:
            raise PublishFailed(f"publish failed: {exc!r}") from exc
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()


def _aiokafka_producer(broker: KafkaBroker) -> Any:
    """The broker's own aiokafka producer (acks=all, idempotent): FastStream 0.7 keeps it at
    `config.producer._producer.producer` and has no public way to send bytes headers."""
    try:
        return broker.config.producer._producer.producer  # type: ignore[attr-defined]
    except AttributeError as exc:
        raise PublishFailed(
            "the broker is not connected (or FastStream moved its producer)"
        ) from exc


def _headers(traceparent: str | None) -> dict[str, str]:
    headers = {"content-type": CONTENT_TYPE}
    if traceparent:
        headers["traceparent"] = traceparent
    return headers
