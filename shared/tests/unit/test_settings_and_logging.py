"""Settings refuse development secrets outside development; logs never carry a phone number."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from shared.logging import JsonFormatter, redact
from shared.settings import ServiceSettings


class _Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore", frozen=True)
    signing_key: SecretStr = SecretStr("dev-only-signing-key")


def test_development_defaults_work_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "development")
    assert _Settings().signing_key.get_secret_value().startswith("dev-only-")


def test_development_defaults_are_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="signing_key still has its development default"):
        _Settings()
    monkeypatch.setenv("DEMO_SIGNING_KEY", "a-real-secret")
    assert _Settings().signing_key.get_secret_value() == "a-real-secret"


def test_each_service_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "development")
    monkeypatch.setenv("DEMO_KAFKA_BOOTSTRAP_SERVERS", "10.0.0.1:9092")
    monkeypatch.setenv("OTHER_KAFKA_BOOTSTRAP_SERVERS", "ignored:1")
    assert _Settings().kafka_bootstrap_servers == "10.0.0.1:9092"


def test_phone_numbers_are_masked_in_messages_extras_and_tracebacks() -> None:
    assert redact("code sent to +49 151 1234 5678 ok") == "code sent to [redacted-phone] ok"
    try:
        raise ValueError("bad +15551234567")
    except ValueError:
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "to %s", ("+33612345678",), exc_info=sys.exc_info()
        )
    record.phone = "+33612345678"
    line = JsonFormatter().format(record)
    assert "+33612345678" not in line
    assert "+15551234567" not in line
    assert json.loads(line)["message"] == "to [redacted-phone]"


def test_kafka_durability_defaults_to_one_broker_and_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "development")
    defaults = _Settings()
    assert (defaults.kafka_replication_factor, defaults.kafka_min_insync_replicas) == (1, 1)
    monkeypatch.setenv("DEMO_KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("DEMO_KAFKA_MIN_INSYNC_REPLICAS", "2")
    cluster = _Settings()
    assert (cluster.kafka_replication_factor, cluster.kafka_min_insync_replicas) == (3, 2)


def test_more_insync_replicas_than_replicas_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "development")
    monkeypatch.setenv("DEMO_KAFKA_MIN_INSYNC_REPLICAS", "2")
    with pytest.raises(ValidationError, match=r"kafka_min_insync_replicas \(2\) exceeds"):
        _Settings()
