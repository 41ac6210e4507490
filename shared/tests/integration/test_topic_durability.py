"""Replication factor and min.insync.replicas come from configuration, for every topic created."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from pydantic import SecretStr

from kits_testing import Servers
from shared.kafka.broker import TopicCreationFailed, ensure_topics
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.topics import TopicSpec, dead_letter_topic

pytestmark = pytest.mark.integration
TOPIC_LEVEL = 1  # config_source DYNAMIC_TOPIC_CONFIG: set on the topic, not a broker default


@pytest.fixture
async def admin(servers: Servers) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=servers.kafka)
    await client.start()
    created_before = set(await client.list_topics())
    yield client
    ours = [t for t in set(await client.list_topics()) - created_before if t.startswith("t-dur")]
    if ours:
        await client.delete_topics(ours)
    await client.close()


async def topic_config(admin: AIOKafkaAdminClient, topic: str, name: str) -> tuple[str, int]:
    """(value, config_source) of one topic config, as the broker reports it."""
    [response] = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic, {name: None})]
    )
    [(_, _, _, _, entries)] = response.resources
    [(_, value, _, source, *_)] = entries
    return value, source


async def replicas(admin: AIOKafkaAdminClient, topic: str) -> set[int]:
    [described] = await admin.describe_topics([topic])
    return {len(p["replicas"]) for p in described["partitions"]}


async def test_every_created_topic_reads_back_the_configured_durability(
    servers: Servers, admin: AIOKafkaAdminClient, unique: Callable[[str], str]
) -> None:
    domain = TopicSpec(unique("t-dur-domain"), 3, -1, "test")
    dead_letters = dead_letter_topic(unique("t-dur-group"))
    # One broker holds one replica, so only min.insync.replicas can show a configured value
    # other than Kafka's default here (Kafka accepts 2 on a one-replica topic at creation).
    created = await ensure_topics(
        bootstrap_servers=servers.kafka,
        topics=[domain, dead_letters],
        replication_factor=1,
        min_insync_replicas=2,
    )
    assert created == [domain.name, dead_letters.name]
    for topic in created:
        assert await topic_config(admin, topic, "min.insync.replicas") == ("2", TOPIC_LEVEL)
        assert await topic_config(admin, topic, "retention.ms") == ("-1", TOPIC_LEVEL)
        assert await replicas(admin, topic) == {1}


async def test_an_impossible_replication_factor_fails_with_a_clear_error(
    servers: Servers, admin: AIOKafkaAdminClient, unique: Callable[[str], str]
) -> None:
    spec = TopicSpec(unique("t-dur-rf2"), 1, 3_600_000, "test")
    with pytest.raises(TopicCreationFailed) as refused:
        await ensure_topics(
            bootstrap_servers=servers.kafka,
            topics=[spec],
            replication_factor=2,
            min_insync_replicas=2,
        )
    message = str(refused.value)
    assert f"could not create topic {spec.name} with replication factor 2" in message
    assert "InvalidReplicationFactorError (38)" in message
    assert "only 1 broker(s) are registered" in message  # Kafka's own words
    assert spec.name not in await admin.list_topics()


async def test_the_runtime_creates_its_dead_letter_topics_with_the_settings(
    servers: Servers, admin: AIOKafkaAdminClient, unique: Callable[[str], str]
) -> None:
    settings = ServiceSettings(
        environment="development",
        service_name=unique("t-dur-svc"),
        kafka_bootstrap_servers=servers.kafka,
        mongodb_url=SecretStr(servers.mongodb_url),
        kafka_replication_factor=1,
        kafka_min_insync_replicas=1,
    )
    runtime = Runtime.build(settings)
    group = unique("t-dur-runtime")
    runtime.consumer_groups.append(group)
    await runtime.start()
    await runtime.stop()
    # Set on the topic itself (before, dead-letter topics took the broker's default).
    assert await topic_config(admin, f"{group}.dlq", "min.insync.replicas") == ("1", TOPIC_LEVEL)
