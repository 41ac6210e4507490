"""Consent's events end token families: `consent.revoked.v1` and `consent.invalidated.v1`,
consumed from a topic of the test's own by group `AUTH_CONSENT_EVENTS_GROUP` (real Kafka)."""

from __future__ import annotations

from typing import Any

import pytest
from apps_testing import EventsSince
from token_testing import TokenHarness

from auth.domain.grants import Grant, InvalidAccessToken
from auth.domain.token_rules import LOGIN_KIT
from kits_testing import eventually
from shared.events import CloudEvent, EventData, make_event
from shared.events.auth import TokenRevoked
from shared.events.consent import ConsentInvalidated, ConsentRevoked

pytestmark = pytest.mark.integration


async def _send(tokens: TokenHarness, data: EventData) -> None:
    event = make_event(data, source="kits.consent")
    await tokens.auth.container.runtime.publisher.publish_raw(
        topic=tokens.auth.settings.consent_events_topic,
        value=event.to_bytes(),
        key=event.key(),
        headers={"content-type": "application/cloudevents+json"},
    )


async def _live(tokens: TokenHarness, access_token: str) -> bool:
    try:
        await tokens.auth.container.access_tokens.verify(access_token, audience=LOGIN_KIT)
    except InvalidAccessToken:
        return False
    return True


def _revoked(grant: Grant, *, version: int) -> ConsentRevoked:
    return ConsentRevoked(
        user_key=grant.user_key,
        app_id=grant.client_id,
        consent_id=grant.consent_id,
        version=version,
    )


async def test_a_revoked_consent_ends_its_families_once_and_only_its_own(
    tokens: TokenHarness,
) -> None:
    grant = tokens.grant()
    other_consent = tokens.grant(user_key=grant.user_key, consent_id="c_other")
    one, two = await tokens.tokens(grant), await tokens.tokens(grant)
    kept = await tokens.tokens(other_consent)
    since = await EventsSince(tokens.auth.settings.kafka_bootstrap_servers).mark()

    await _send(tokens, _revoked(grant, version=2))

    async def ended() -> bool:
        return not await _live(tokens, one["access_token"]) and not await _live(
            tokens, two["access_token"]
        )

    await eventually(ended)
    assert await _live(tokens, kept["access_token"])
    await _send(tokens, _revoked(grant, version=2))  # a redelivery changes nothing

    def two_revocations(found: list[CloudEvent[Any]]) -> bool:
        return sum(e.type == TokenRevoked.TYPE for e in found) >= 2

    events = await since.read(grant.user_key, until=two_revocations, settle_s=2.0)
    revoked = [e.data for e in events if e.type == TokenRevoked.TYPE]
    assert len(revoked) == 2
    assert {r.reason for r in revoked} == {"consent_revoked"}
    assert {r.app_id for r in revoked} == {tokens.client_id}


async def test_an_invalidated_consent_ends_families_of_older_versions_only(
    tokens: TokenHarness,
) -> None:
    old = tokens.grant(consent_version=1)
    renewed = tokens.grant(user_key=old.user_key, consent_id=old.consent_id, consent_version=3)
    before, after = await tokens.tokens(old), await tokens.tokens(renewed)

    await _send(
        tokens,
        ConsentInvalidated(
            user_key=old.user_key,
            app_id=old.client_id,
            consent_id=old.consent_id,
            version=2,
            terms_version="2026-01",
            new_terms_version="2026-02",
        ),
    )

    async def old_ended() -> bool:
        return not await _live(tokens, before["access_token"])

    await eventually(old_ended)
    assert await _live(tokens, after["access_token"])  # granted under the renewal (v3)
