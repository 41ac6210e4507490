"""Grant, check, revoke, terms changes and renewals, on the real broker and database."""

from __future__ import annotations

from typing import Any

import pytest

from consent_testing import ConsentHarness, as_user, new_app, new_user, terms_updated
from kits_testing import eventually, read_topic
from shared.events import parse
from shared.events.consent import ConsentInvalidated, ConsentRevoked

pytestmark = pytest.mark.integration


async def grant(consent: ConsentHarness, user: str, app: str, **extra: Any) -> Any:
    values: dict[str, Any] = {
        "user_key": user,
        "app_id": app,
        "scopes": ("user.info.basic", "video.list"),
        "purpose": "show your videos in the app",
        "pairwise_subject": f"ps_{user[-8:]}",
        **extra,
    }
    outcome = await consent.container.consents.grant(**values)
    return outcome.consent


async def test_grant_allows_then_revoke_refuses(consent: ConsentHarness, servers: Any) -> None:
    user, app = new_user(), new_app()
    await consent.register(app)
    assert (await consent.check(user, app))["reason"] == "no_consent"

    granted = await grant(consent, user, app)
    answer = await consent.check(user, app, ("user.info.basic", "video.list"))
    assert answer == {
        "allowed": True,
        "reason": "covered",
        "consent_id": granted.consent_id,
        "version": 1,
        "terms_version": "t1",
    }
    assert (await consent.check(user, app, ("sound.share",)))["reason"] == "scope_not_granted"

    revoked = await consent.http.post(
        f"/v1/me/consents/{granted.consent_id}/revoke", headers=as_user(user)
    )
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["status"], revoked.json()["version"]) == ("revoked", 2)
    answer = await consent.check(user, app)  # at once: the revoke returned
    assert (answer["allowed"], answer["reason"], answer["version"]) == (False, "revoked", 2)

    records = await read_topic(servers.kafka, consent.events_topic, count=2)
    events = [parse(r.value) for r in records]
    assert [e.type for e in events] == ["consent.granted.v1", "consent.revoked.v1"]
    assert all(r.key == user.encode() for r in records)
    assert events[0].data.pairwise_subject == f"ps_{user[-8:]}"
    assert events[0].data.purpose == "show your videos in the app"
    assert isinstance(events[1].data, ConsentRevoked)
    assert events[1].data.version == 2
    assert consent.deletions.requests[(granted.consent_id, 2)]["pairwise_subject"] == (
        f"ps_{user[-8:]}"
    )


async def test_a_double_revoke_has_one_effect(consent: ConsentHarness, servers: Any) -> None:
    user, app = new_user(), new_app()
    await consent.register(app)
    granted = await grant(consent, user, app)
    path = f"/v1/me/consents/{granted.consent_id}/revoke"
    first = await consent.http.post(path, headers=as_user(user))
    second = await consent.http.post(path, headers=as_user(user))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert len(first.json()["history"]) == 2
    again = await consent.http.post("/v1/me/consents/revoke-all", headers=as_user(user))
    assert again.status_code == 200
    assert again.json()["revoked"][0]["version"] == 2
    records = await read_topic(servers.kafka, consent.events_topic, count=2, timeout_s=5)
    assert [parse(r.value).type for r in records] == ["consent.granted.v1", "consent.revoked.v1"]
    assert list(consent.deletions.requests) == [(granted.consent_id, 2)]


async def test_a_terms_change_invalidates_and_a_renewal_restores(
    consent: ConsentHarness, servers: Any
) -> None:
    user, other, app = new_user(), new_user(), new_app()
    await consent.register(app)
    first = await grant(consent, user, app)
    await grant(consent, other, app)
    assert (await consent.check(user, app))["allowed"] is True

    sent = await consent.send_auth(terms_updated(app, new="t2"))
    await consent.send_auth(terms_updated(app, new="t2"))  # another event, same terms
    await consent.until_app(app, terms="t2")
    # From the app's new terms on, the check refuses, whatever the invalidations' progress.
    refusals = ("terms_changed", "change_in_progress", "invalidated")
    assert (await consent.check(user, app))["reason"] in refusals

    async def invalidated() -> bool:
        answers = [await consent.check(u, app) for u in (user, other)]
        return all(a["reason"] == "invalidated" for a in answers)

    await eventually(invalidated)
    assert (await consent.check(user, app))["version"] == 2

    renewed = await grant(consent, user, app, terms_version="t2")
    assert (renewed.consent_id, renewed.version, renewed.change) == (first.consent_id, 3, "renewed")
    answer = await consent.check(user, app)
    assert (answer["allowed"], answer["version"], answer["terms_version"]) == (True, 3, "t2")
    assert renewed.terms.recipients == ("analytics.example", "ads.example")
    assert (await consent.check(other, app))["allowed"] is False

    await consent.send_auth(terms_updated(app, new="t2"))  # a redelivery changes nothing
    records = await read_topic(servers.kafka, consent.events_topic, count=5)
    kinds = [parse(r.value) for r in records]
    invalidations = [e for e in kinds if isinstance(e.data, ConsentInvalidated)]
    assert sorted(e.data.user_key for e in invalidations) == sorted([user, other])
    assert {(e.data.terms_version, e.data.new_terms_version) for e in invalidations} == {
        ("t1", "t2")
    }
    assert sent.id  # the terms event was published
