"""Consent's settings: callers' key URLs and the wire round trip of every version event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from consent.config import CallerKeys, ConsentSettings
from consent.domain.model import Terms, grant, invalidate, revoke
from consent.service.wire import from_event, to_event
from deletions_testing import SCREEN_IN_PRODUCTION
from shared.events import parse


def test_caller_keys_are_https_outside_development() -> None:
    with pytest.raises(ValidationError, match="https only"):
        ConsentSettings(
            service_callers={"auth": CallerKeys(jwks_url="http://auth/jwks")},
            **SCREEN_IN_PRODUCTION,
        )
    dev = ConsentSettings(
        environment="development", service_callers={"auth": CallerKeys(jwks_url="http://auth/jwks")}
    )
    assert dev.service_callers["auth"].jwks_url == "http://auth/jwks"
    with pytest.raises(ValidationError, match="either jwks_url or an inline jwks"):
        CallerKeys()


def test_every_version_survives_the_wire() -> None:
    at = datetime(2026, 12, 1, 10, 0, 0, 123000, tzinfo=UTC)
    first = grant(
        None,
        user_key="uk_1",
        app_id="app_1",
        scopes=("video.list",),
        purpose="show videos",
        terms=Terms("t1", ("r.example",), 30),
        pairwise_subject="ps_1",
        at=at,
    )
    assert first is not None
    renewed = grant(
        first,
        user_key="uk_1",
        app_id="app_1",
        scopes=("user.info.basic", "video.list"),
        purpose="more",
        terms=Terms("t1", ("r.example",), 30),
        pairwise_subject="ps_1",
        at=at,
    )
    assert renewed is not None
    invalidated = invalidate(renewed, new_terms_version="t2", at=at)
    assert invalidated is not None
    revoked = revoke(invalidated, reason="user_deleted", at=at)
    assert revoked is not None
    previous = None
    for version in (first, renewed, invalidated, revoked):
        event = parse(to_event(version, source="/t").to_bytes())
        assert event.time == at
        rebuilt = from_event(event, previous)
        assert rebuilt == version
        previous = rebuilt
