"""Helpers of the app-registry tests: developers, registrations, and `auth.events` since now."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from auth_testing import AuthHarness
from shared.events import CloudEvent, parse
from shared.kafka.broker import topic_partitions
from shared.topics import AUTH_EVENTS

VALID_APP: dict[str, Any] = {
    "name": "Tune Share",
    "client_type": "confidential",
    "redirect_uris": ["https://tunes.example/callback", "http://127.0.0.1:8765/cb"],
    "allowed_scopes": ["user.info.basic", "video.list"],
    "terms": {
        "terms_url": "https://tunes.example/terms",
        "terms_version": "2026-01",
        "recipients": ["Tune Share Ltd", "Analytics Co"],
        "retention_days": 30,
    },
    "privacy_policy_url": "https://tunes.example/privacy",
    "deletion_webhook_url": "https://tunes.example/hooks/delete",
}


def app_body(**overrides: Any) -> dict[str, Any]:
    """A valid registration with some fields replaced."""
    body = copy.deepcopy(VALID_APP)
    body.update(overrides)
    return body


def bearer(key: str) -> dict[str, str]:
    """The Authorization header of a developer key."""
    return {"Authorization": f"Bearer {key}"}


async def new_developer(auth: AuthHarness, name: str = "Dev") -> dict[str, str]:
    """A developer account's headers (made through the service, as the admin command does)."""
    _, key = await auth.container.apps.developers.create(name=f"{name} {uuid.uuid4().hex[:6]}")
    return bearer(key)


async def register(auth: AuthHarness, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """Register an app (201 asserted); the answer's JSON."""
    response = await auth.http.post("/v1/apps", json=app_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


class EventsSince:
    """`auth.events` from the end offsets taken at creation: what this test made happen.

    Other engineers publish to the shared topic, so records are picked by key (the app id).
    """

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._start: dict[TopicPartition, int] = {}

    async def mark(self) -> EventsSince:
        """Remember where the topic ends now."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            parts = await topic_partitions(consumer, AUTH_EVENTS)
            self._start = dict(await consumer.end_offsets(parts))
        finally:
            await consumer.stop()
        return self

    async def read(
        self,
        key: str,
        *,
        until: Callable[[list[CloudEvent[Any]]], bool],
        timeout_s: float = 20.0,
        settle_s: float = 1.0,
    ) -> list[CloudEvent[Any]]:
        """The events keyed `key` since the mark, once `until` holds and `settle_s` passed
        with nothing more (so a duplicate would be seen), in partition order."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        events: list[CloudEvent[Any]] = []
        try:
            consumer.assign(list(self._start))
            for tp, offset in self._start.items():
                consumer.seek(tp, offset)
            async with asyncio.timeout(timeout_s):
                while not until(events):
                    events.extend(await self._batch(consumer, key))
                quiet_until = asyncio.get_running_loop().time() + settle_s
                while asyncio.get_running_loop().time() < quiet_until:
                    events.extend(await self._batch(consumer, key, timeout_ms=200))
        finally:
            await consumer.stop()
        return events

    async def _batch(
        self, consumer: AIOKafkaConsumer, key: str, *, timeout_ms: int = 500
    ) -> list[CloudEvent[Any]]:
        found = []
        for records in (await consumer.getmany(timeout_ms=timeout_ms)).values():
            found += [parse(r.value) for r in records if r.key == key.encode() and r.value]
        return found
