"""The data API's refusals on the real broker and database: a clear 4xx (or a 503) in the API's
own shape, never a 500, and nothing released; a refused request publishes nothing, and a
release whose record the broker did not acknowledge is a 503 with no data."""

from __future__ import annotations

import json
import socket

import pytest
from data_testing import DataHarness, bearer, data, envelope_error
from faststream.kafka import KafkaBroker
from oauth_fakes import FakeConsentCheck

from auth.adapters.kafka_transfers import KafkaTransfers
from auth.domain.grants import ConsentAnswer
from shared.kafka.publisher import DurablePublisher

pytestmark = pytest.mark.integration
__all__ = ["data"]
INFO = "/v2/user/info/"
VIDEOS = "/v2/video/list/"


async def test_a_field_outside_the_scopes_is_refused_by_name_and_nothing_published(
    data: DataHarness,
) -> None:
    token = data.token("user.info.basic")
    answer = await data.http.get(f"{INFO}?fields=open_id,bio_description", headers=bearer(token))
    assert answer.status_code == 403
    error = envelope_error(answer)
    assert error["code"] == "scope_not_authorized"
    assert "bio_description" in error["message"]
    assert "user.info.profile" in error["message"]
    listed = await data.http.post(f"{VIDEOS}?fields=id", json={}, headers=bearer(token))
    assert (listed.status_code, envelope_error(listed)["code"]) == (403, "scope_not_authorized")
    assert data.consent.calls == []
    assert await data.published() == 0


@pytest.mark.parametrize("reason", ["revoked", "terms_changed", "invalidated", "no_consent"])
async def test_a_consent_that_says_no_releases_and_publishes_nothing(
    data: DataHarness, reason: str
) -> None:
    token = data.token("user.info.basic", "video.list")
    grant = data.issued[token]
    data.consent.answers[(grant.user_key, grant.client_id)] = ConsentAnswer(False, reason)
    info = await data.http.get(f"{INFO}?fields=display_name", headers=bearer(token))
    videos = await data.http.post(f"{VIDEOS}?fields=title", json={}, headers=bearer(token))
    for answer in (info, videos):
        assert answer.status_code == 403
        error = envelope_error(answer)
        assert error["code"] == "consent_revoked"
        assert reason in error["message"]
        assert "Chiara" not in answer.text
        assert "Kiln" not in answer.text
    assert await data.published() == 0


async def test_an_unavailable_consent_check_is_a_503_with_no_data(data: DataHarness) -> None:
    token = data.token("user.info.basic", "openid")
    data.container.consent_check = FakeConsentCheck(unavailable=True)
    info = await data.http.get(f"{INFO}?fields=display_name", headers=bearer(token))
    assert (info.status_code, envelope_error(info)["code"]) == (503, "service_unavailable")
    assert info.headers["retry-after"] == "1"
    userinfo = await data.http.get("/oauth/userinfo", headers=bearer(token))
    assert userinfo.status_code == 503
    assert userinfo.json()["error"] == "temporarily_unavailable"
    assert await data.published() == 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("failure", ["deadline of zero", "broker address where nothing listens"])
async def test_a_release_the_broker_did_not_acknowledge_is_a_503_with_no_data(
    data: DataHarness, failure: str
) -> None:
    if failure == "deadline of zero":
        publisher = DurablePublisher(broker=data.container.runtime.broker, deadline_s=0.0)
    else:
        publisher = DurablePublisher(
            broker=KafkaBroker(f"127.0.0.1:{_closed_port()}"), deadline_s=1.0
        )
    data.container.transfers = KafkaTransfers(
        publisher=publisher, source="kits.auth", topic=data.topic
    )
    token = data.token("user.info.basic", "video.list", "openid")
    answers = [
        await data.http.get(f"{INFO}?fields=open_id,display_name", headers=bearer(token)),
        await data.http.post(f"{VIDEOS}?fields=id,title", json={}, headers=bearer(token)),
    ]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        error = envelope_error(answer)
        assert error["code"] == "service_unavailable"
        assert "nothing was sent" in error["message"]
        assert data.issued[token].pairwise_subject not in answer.text
        assert "Chiara" not in answer.text
        assert "Kiln" not in answer.text
    userinfo = await data.http.get("/oauth/userinfo", headers=bearer(token))
    assert userinfo.status_code == 503
    assert "Chiara" not in userinfo.text


BAD_INFO = [
    ("", "fields is required"),
    ("?fields=", "fields is required"),
    ("?fields=open_id,,display_name", "empty name"),
    ("?fields=open_id,open_id", "named twice"),
    ("?fields=union_id", "the field union_id is not one of"),
    ("?fields=%3Cscript%3E", "a field name is not one of"),
    ("?fields=" + "a" * 1001, "longer than 1000"),
    ("?fields=" + ",".join(["open_id"] * 21), "more than 20"),
    ("?fields=open_id&fields=display_name", "more than once"),
]


@pytest.mark.parametrize(("query", "says"), BAD_INFO)
async def test_bad_user_info_parameters_are_invalid_params(
    data: DataHarness, query: str, says: str
) -> None:
    token = data.token("user.info.basic")
    answer = await data.http.get(f"{INFO}{query}", headers=bearer(token))
    assert answer.status_code == 400
    error = envelope_error(answer)
    assert error["code"] == "invalid_params"
    assert says in error["message"]
    assert error["log_id"] == answer.headers["x-log-id"]
    assert await data.published() == 0


BAD_LIST = [
    (b"{", "not JSON"),
    (b"[" * 50_000, "not JSON"),
    (b"[1]", "must be a JSON object"),
    (b'{"max_count": 0}', "from 1 to 20"),
    (b'{"max_count": 21}', "from 1 to 20"),
    (b'{"max_count": "10"}', "must be an integer"),
    (b'{"cursor": "dj\\u0031OjEyOmFi"}', "not one this service returned"),
    (b'{"cursor": "not-ours"}', "not one this service returned"),
    (b'{"cursor": 1764000000000}', "cursor must be a string"),
    (b'{"page": 2}', "the body has page"),
]


@pytest.mark.parametrize(("body", "says"), BAD_LIST)
async def test_bad_video_list_bodies_are_invalid_params(
    data: DataHarness, body: bytes, says: str
) -> None:
    token = data.token("video.list")
    answer = await data.http.post(
        f"{VIDEOS}?fields=id",
        content=body,
        headers={**bearer(token), "content-type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    error = envelope_error(answer)
    assert error["code"] == "invalid_params"
    assert says in error["message"]
    assert await data.published() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YTpi"},
        {"Authorization": "Bearer nope"},
    ],
)
async def test_a_missing_or_bad_token_is_access_token_invalid(
    data: DataHarness, headers: dict[str, str]
) -> None:
    for answer in (
        await data.http.get(f"{INFO}?fields=open_id", headers=headers),
        await data.http.post(f"{VIDEOS}?fields=id", json={}, headers=headers),
    ):
        assert answer.status_code == 401
        assert envelope_error(answer)["code"] == "access_token_invalid"
        assert answer.headers["www-authenticate"].startswith("Bearer ")
    assert await data.published() == 0


async def test_userinfo_errors_follow_rfc_6750(data: DataHarness) -> None:
    bare = await data.http.get("/oauth/userinfo")
    assert bare.status_code == 401
    assert "error=" not in bare.headers["www-authenticate"]  # no credentials: no error code
    forged = await data.http.get("/oauth/userinfo", headers=bearer("forged"))
    assert forged.status_code == 401
    assert forged.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in forged.headers["www-authenticate"]
    no_openid = data.token("user.info.basic")
    narrow = await data.http.get("/oauth/userinfo", headers=bearer(no_openid))
    assert narrow.status_code == 403
    assert narrow.json()["error"] == "insufficient_scope"
    assert 'scope="openid"' in narrow.headers["www-authenticate"]
    token = data.token("openid")
    in_query = await data.http.get(f"/oauth/userinfo?access_token={token}")
    assert in_query.status_code == 400
    assert in_query.json()["error"] == "invalid_request"
    twice = await data.http.post(
        "/oauth/userinfo",
        content=f"access_token={token}",
        headers={**bearer(token), "content-type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 400
    assert twice.json()["error"] == "invalid_request"
    grant = data.issued[token]
    data.consent.answers[(grant.user_key, grant.client_id)] = ConsentAnswer(False, "revoked")
    revoked = await data.http.get("/oauth/userinfo", headers=bearer(token))
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["error_description"]
    assert await data.published() == 0
    assert all(json.loads(a.content) for a in (forged, narrow, in_query, twice, revoked))


async def test_two_authorization_headers_are_refused_even_if_one_is_valid(
    data: DataHarness,
) -> None:
    token = data.token("user.info.basic")
    twice = [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer other")]
    answer = await data.http.get(f"{INFO}?fields=open_id", headers=twice)
    assert answer.status_code == 401
    assert envelope_error(answer)["code"] == "access_token_invalid"
    assert await data.published() == 0
