"""Deletion rules without servers: settings, backoff, the payload, the derived secret."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr, ValidationError
from standardwebhooks.webhooks import Webhook

from consent.config import ConsentSettings
from consent.service.deletion_dispatch import RetryPolicy, event_id
from consent.service.deletion_ports import DeletionRequest
from consent.service.deletions import request_id_for
from consent.service.webhook_body import webhook_body, webhook_secret

PRODUCTION: dict[str, object] = {  # the screen's settings a production deployment must set
    "environment": "production",
    "issuer": "https://consent.example.com",
    "signing_keys": SecretStr("A" * 43 + "="),
    "auth_callback_urls": "https://auth.example.com/oauth/consent/callback",
}


def test_production_refuses_the_development_webhook_key() -> None:
    with pytest.raises(ValidationError, match="webhook_key"):
        ConsentSettings(**PRODUCTION)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="at least 32"):
        ConsentSettings(**PRODUCTION, webhook_key=SecretStr("short-but-not-dev"))  # type: ignore[arg-type]
    settings = ConsentSettings(**PRODUCTION, webhook_key=SecretStr("k" * 32))  # type: ignore[arg-type]
    assert settings.development is False


def test_the_claim_lease_must_outlast_an_attempt() -> None:
    with pytest.raises(ValidationError, match="lease"):
        ConsentSettings(environment="development", deletion_timeout_s=10, deletion_claim_lease_s=10)


def test_backoff_doubles_up_to_its_cap_less_at_most_the_jitter() -> None:
    policy = RetryPolicy(budget_s=3600, base_s=1, cap_s=30, jitter=0.2, lease_s=60)
    rng = random.Random(7)
    for attempt, full in [(1, 1), (2, 2), (3, 4), (5, 16), (6, 30), (40, 30), (500, 30)]:
        gaps = [policy.gap(attempt, rng=rng) for _ in range(200)]
        assert all(full * 0.8 <= g <= full for g in gaps)
        assert len(set(gaps)) > 1  # jittered


def test_ids_are_stable_per_consent_version() -> None:
    one = request_id_for(consent_id="c-1", consent_version=2)
    assert one == request_id_for(consent_id="c-1", consent_version=2)
    assert one != request_id_for(consent_id="c-1", consent_version=3)
    assert event_id(one, "outcome") == event_id(one, "outcome") != event_id(one, "requested")


def test_the_payload_carries_the_apps_id_never_the_user_key_and_verifies() -> None:
    request = DeletionRequest(
        request_id="del_1",
        app_id="app-1",
        user_key="usr-secret-key",
        consent_id="c-1",
        consent_version=2,
        pairwise_subject="pw-1",
        reason="user_deleted",
        requested_at=1_800_000_000.0,
        deadline=1_800_003_600.0,
    )
    body = webhook_body(request)
    assert "usr-secret-key" not in body
    assert json.loads(body)["data"]["subject"] == "pw-1"
    secret = webhook_secret(key=b"k" * 32, app_id="app-1")
    assert secret != webhook_secret(key=b"k" * 32, app_id="app-2")
    assert secret != webhook_secret(key=b"j" * 32, app_id="app-1")
    hook = Webhook(secret)
    assert hook.sign("del_1", _at(1_800_000_000), body).startswith("v1,")


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
