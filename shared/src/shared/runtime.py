"""The adapters every service holds the same way: broker, durable publisher, Mongo database.

Built by each service's bootstrap (its composition root) and started in the app's lifespan.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any, Union

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared import mongo
from shared.events.envelope import CloudEvent, EventData
from shared.http import Readiness
from shared.kafka.broker import ensure_topics, make_broker
from shared.kafka.consumer import RetryPolicy
from shared.kafka.health import ConsumerWatch, subscribed_topics
from shared.kafka.publisher import DurablePublisher
from shared.settings import ServiceSettings
from shared.topics import DOMAIN_TOPICS, TopicSpec, dead_letter_topic

log = logging.getLogger(__name__)
STOP_TIMEOUT_S = 10.0


async def _bounded(step: Awaitable[None], what: str) -> None:
    try:
        await asyncio.wait_for(step, STOP_TIMEOUT_S)
    except TimeoutError:
        log.warning("stopping %s took over %.0f s; going on without it", what, STOP_TIMEOUT_S)
    except Exception:
        log.exception("stopping %s failed; going on without it", what)


@dataclass
class Runtime:
    """One service's connections; nothing connects until `start()`."""

    settings: ServiceSettings
    broker: KafkaBroker
    publisher: DurablePublisher
    client: AsyncMongoClient[mongo.Document]
    db: AsyncDatabase[mongo.Document]
    consumer_groups: list[str] = field(default_factory=list)
    watch: ConsumerWatch | None = None
    # Topics a service's settings name in place of a contract's (created like the contract's).
    renamed_topics: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: ServiceSettings) -> Runtime:
        """Create (not connect) the broker, publisher and database client."""
        broker = make_broker(settings)
        client = mongo.make_client(
            settings.mongodb_url.get_secret_value(), app_name=settings.service_name
        )
        return cls(
            settings=settings,
            broker=broker,
            publisher=DurablePublisher(broker=broker, deadline_s=settings.publish_deadline_s),
            client=client,
            db=client[settings.database_name],
            watch=ConsumerWatch(
                bootstrap=settings.kafka_bootstrap_servers, stall_s=settings.consumer_stall_s
            ),
        )

    @property
    def retry(self) -> RetryPolicy:
        """The configured retry policy for this service's consumers."""
        return RetryPolicy(
            backoff_s=self.settings.consumer_backoff_s,
            max_backoff_s=self.settings.consumer_max_backoff_s,
            hold_s=self.settings.consumer_hold_s,
        )

    def topics(self) -> list[TopicSpec]:
        """Every topic this service needs to exist: the domain topics, those its settings name
        instead of a domain topic (same partitions and retention), and its dead letters."""
        renamed = [
            dataclasses.replace(spec, name=self.renamed_topics[spec.name])
            for spec in DOMAIN_TOPICS
            if self.renamed_topics.get(spec.name, spec.name) != spec.name
        ]
        return [*DOMAIN_TOPICS, *renamed, *(dead_letter_topic(g) for g in self.consumer_groups)]

    async def start(self) -> None:
        """Create missing topics, then start the broker (its subscribers begin consuming)."""
        await ensure_topics(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            topics=self.topics(),
            replication_factor=self.settings.kafka_replication_factor,
            min_insync_replicas=self.settings.kafka_min_insync_replicas,
        )
        await self.broker.start()
        if self.watch is not None and self.consumer_groups:
            await self.watch.start()

    async def stop(self) -> None:
        """Stop consuming, flush the producer, close the database client; each step at most
        `STOP_TIMEOUT_S` (10 s), so a
        broker that stopped answering cannot hold the shutdown forever, and a step that fails
        does not skip the next (what a step left undone is logged; the process is ending)."""
        await _bounded(self.broker.stop(), "the broker")
        if self.watch is not None:
            await _bounded(self.watch.stop(), "the consumer watch")
        await _bounded(self.client.close(), "the database client")

    async def readiness(self) -> Readiness:
        """Whether Kafka and the database answer right now and no consumer group is stalled."""
        kafka, database, stalled = await asyncio.gather(
            self.broker.ping(timeout=2.0), mongo.ping(self.client), self._stalled_consumers()
        )
        checks = {"kafka": bool(kafka), "database": database}
        reasons = [f"{name} does not answer" for name, ok in checks.items() if not ok]
        if self.watch is not None and self.consumer_groups:
            checks["consumers"] = not stalled
        return Readiness(checks=checks, reasons=reasons + stalled)

    async def _stalled_consumers(self) -> list[str]:
        if self.watch is None or not self.consumer_groups:
            return []
        return await self.watch.reasons(subscribed_topics(self.broker, self.consumer_groups))


def declare_publications(broker: KafkaBroker, types: Iterable[type[EventData]]) -> None:
    """Register each published topic with its payload types, for the AsyncAPI document."""
    by_topic: dict[str, list[type[EventData]]] = {}
    for event_type in types:
        by_topic.setdefault(event_type.TOPIC, []).append(event_type)
    for topic, members in by_topic.items():
        schema: Any = Union[tuple(CloudEvent[m] for m in members)]  # type: ignore[valid-type]  # noqa: UP007
        broker.publisher(
            topic,
            schema=schema,
            title=f"{topic}:publish",
            description="CloudEvents (structured JSON), key = subject: "
            + ", ".join(m.TYPE for m in members),
        )


def asyncapi_document(broker: KafkaBroker, *, title: str, version: str) -> dict[str, Any]:
    """The AsyncAPI 3.0 document FastStream generates from the subscribers and publishers."""
    spec = AsyncAPI(broker, title=title, version=version, schema_version="3.0.0")
    document: dict[str, Any] = spec.to_specification().to_jsonable()
    return document
