"""Bad input gets a clear 4xx, never a 500; a malformed event goes to the dead-letter topic."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from joserfc.jwk import OKPKey

from consent_testing import (
    ConsentHarness,
    as_service,
    as_user,
    new_app,
    new_user,
    service_token,
    user_token,
)
from kits_testing import read_topic
from shared.topics import dead_letter_topic

pytestmark = pytest.mark.integration


async def granted(consent: ConsentHarness, user: str, app: str) -> str:
    outcome = await consent.container.consents.grant(
        user_key=user, app_id=app, scopes=("video.list",), purpose="p", pairwise_subject="ps_x"
    )
    assert outcome.consent is not None
    return outcome.consent.consent_id


async def test_unknown_or_someone_elses_consent_is_404(consent: ConsentHarness) -> None:
    alice, bob, app = new_user(), new_user(), new_app()
    await consent.register(app)
    cid = await granted(consent, alice, app)
    for path in (f"/v1/me/consents/{cid}", f"/v1/me/consents/cn_{uuid.uuid4().hex}"):
        for method in ("GET", "POST"):
            target = path if method == "GET" else f"{path}/revoke"
            answer = await consent.http.request(method, target, headers=as_user(bob))
            assert answer.status_code == 404, (method, target)
            assert answer.json()["detail"]
    mine = await consent.http.get(f"/v1/me/consents/{cid}", headers=as_user(alice))
    assert mine.status_code == 200
    assert mine.json()["status"] == "active"  # bob changed nothing
    odd = await consent.http.get("/v1/me/consents/not%20an%20id", headers=as_user(alice))
    assert odd.status_code == 422


async def test_oversize_and_malformed_bodies_are_4xx(consent: ConsentHarness) -> None:
    too_big = {"user_key": new_user(), "app_id": new_app(), "scopes": ["video.list"] * 300_000}
    answer = await consent.http.post("/v1/checks", json=too_big, headers=as_service())
    assert answer.status_code == 413, answer.text
    for body in (
        {"user_key": new_user(), "app_id": new_app(), "scopes": []},
        {"user_key": "+14155550100", "app_id": new_app(), "scopes": ["video.list"]},
        {"user_key": new_user(), "app_id": new_app(), "scopes": ["NOT A SCOPE"]},
        {"user_key": new_user(), "scopes": ["video.list"]},
        {"user_key": new_user(), "app_id": new_app(), "scopes": ["video.list"], "extra": 1},
    ):
        answer = await consent.http.post("/v1/checks", json=body, headers=as_service())
        assert answer.status_code == 422, body
    garbage = await consent.http.post(
        "/v1/checks",
        content=b"{not json",
        headers={**as_service(), "content-type": "application/json"},
    )
    assert garbage.status_code == 422


async def test_the_check_refuses_callers_without_a_valid_service_token(
    consent: ConsentHarness,
) -> None:
    body = {"user_key": new_user(), "app_id": new_app(), "scopes": ["video.list"]}
    stranger = OKPKey.generate_key("Ed25519", parameters={"kid": "test-auth-service-key"})
    cases = {
        "no token": {},
        "not bearer": {"Authorization": f"Basic {service_token()}"},
        "garbage": {"Authorization": "Bearer a.b.c"},
        "a user token": {"Authorization": f"Bearer {user_token(new_user())}"},
        "signed by another key": {"Authorization": f"Bearer {service_token(key=stranger)}"},
        "unknown caller": {"Authorization": f"Bearer {service_token(iss='evil', sub='evil')}"},
        "sub is not the caller": {"Authorization": f"Bearer {service_token(sub='sound')}"},
        "not for consent": {"Authorization": f"Bearer {service_token(aud='audit')}"},
        "expired": {"Authorization": f"Bearer {service_token(iat=1, exp=2)}"},
        "lives too long": {"Authorization": f"Bearer {service_token(exp=4_000_000_000)}"},
    }
    for name, headers in cases.items():
        answer = await consent.http.post("/v1/checks", json=body, headers=headers)
        assert answer.status_code == 401, (name, answer.text)
        assert answer.json()["detail"], name
    for caller in ("auth", "sound"):
        answer = await consent.http.post("/v1/checks", json=body, headers=as_service(caller))
        assert answer.status_code == 200
        assert answer.json()["reason"] == "no_consent"


async def test_user_routes_refuse_without_a_valid_user_token(consent: ConsentHarness) -> None:
    stranger = OKPKey.generate_key("Ed25519", parameters={"kid": "test-user-token-key"})
    user = new_user()
    for headers in (
        {},
        {"Authorization": f"Bearer {service_token()}"},
        {"Authorization": f"Bearer {user_token(user, key=stranger)}"},
        {"Authorization": f"Bearer {user_token(user, exp=1)}"},
    ):
        for method, path in (
            ("GET", "/v1/me/consents"),
            ("POST", "/v1/me/consents/revoke-all"),
            ("POST", f"/v1/me/consents/cn_{uuid.uuid4().hex}/revoke"),
        ):
            answer = await consent.http.request(method, path, headers=headers)
            assert answer.status_code == 401, (path, headers)


async def test_a_malformed_auth_event_goes_to_the_dead_letter_topic(
    consent: ConsentHarness, servers: Any
) -> None:
    app = new_app()
    await consent.container.runtime.publisher.publish_raw(
        topic=consent.auth_topic, value=b'{"not": "an event"', key=app.encode(), headers={}
    )
    await consent.register(app)  # its partition flows on past the bad record
    parked = await read_topic(
        servers.kafka, dead_letter_topic(consent.settings.auth_events_group).name, count=1
    )
    assert parked[0].value == b'{"not": "an event"'
    headers = dict(parked[0].headers)
    assert any(b"undecodable" in v or b"invalid" in v for v in headers.values()), headers
