"""The servers to talk to, and the bench's own topics, groups and databases (cleaned up after)."""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.kafka.broker import ensure_topics
from shared.mongo import Document, make_client
from shared.settings import ServiceSettings
from shared.topics import TopicSpec

REQUIRED = ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL")
RETENTION_MS = 60 * 60 * 1000
PARTITIONS = 6
PROJECT_TOPICS = frozenset(
    {"auth.events", "consent.events", "sound.events", "transfer.events", "audit.events"}
)


class MissingEnvironment(SystemExit):
    """The servers are not named in the environment."""


def read_environment() -> tuple[str, str]:
    """KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL, or exit naming what is missing and how to set it."""
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        raise MissingEnvironment(
            f"bench: {', '.join(missing)} not set. Start the servers and export them with:\n"
            '  python3 scripts/servers.py up && eval "$(python3 scripts/servers.py env)"'
        )
    return os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["MONGODB_URL"]


@dataclass
class BenchEnv:
    """One run's servers and the resources it created (so it can remove them)."""

    bootstrap: str
    mongo_url: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    client: AsyncMongoClient[Document] | None = None
    topics: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)

    def settings(self, name: str) -> ServiceSettings:
        """Service settings for one bench broker (development: no secrets needed)."""
        return ServiceSettings(
            environment="development",
            service_name=f"bench-{self.run_id}-{name}",
            kafka_bootstrap_servers=self.bootstrap,
            publish_deadline_s=60.0,
        )

    def group(self, name: str) -> str:
        """A fresh consumer group id of this run."""
        return f"bench.{self.run_id}.{name}"

    async def topic(self, name: str, *, partitions: int = PARTITIONS) -> str:
        """Create a fresh topic of this run (retention one hour) and return its name."""
        topic = f"bench.{self.run_id}.{name}"
        if topic in PROJECT_TOPICS or not topic.startswith("bench."):
            raise ValueError(f"refusing to use {topic}")
        spec = TopicSpec(topic, partitions, RETENTION_MS, "bench key")
        await ensure_topics(bootstrap_servers=self.bootstrap, topics=[spec])
        self.topics.append(topic)
        return topic

    def database(self, name: str) -> AsyncDatabase[Document]:
        """A fresh database of this run (dropped by `cleanup`)."""
        if self.client is None:
            self.client = make_client(self.mongo_url, app_name=f"bench-{self.run_id}")
        db_name = f"bench_{self.run_id}_{name}"
        self.databases.append(db_name)
        return self.client[db_name]

    async def cleanup(self) -> None:
        """Drop every database and delete every topic this run made; best effort."""
        if self.client is not None:
            for name in self.databases:
                with contextlib.suppress(Exception):
                    await self.client.drop_database(name)
            await self.client.close()
        if self.topics:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
            await admin.start()
            try:
                with contextlib.suppress(Exception):
                    await admin.delete_topics(self.topics)
            finally:
                await admin.close()
