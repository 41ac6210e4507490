"""The data API on the real broker and database: what each scope releases, and that the
transfer record of the exact bytes is on Kafka before the first byte of the answer."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

import pytest
from data_testing import VIDEOS, DataHarness, bearer, data

pytestmark = pytest.mark.integration
__all__ = ["data"]
ALL_INFO = "open_id,display_name,avatar_url,bio_description,profile_deep_link,video_count"


async def test_user_info_releases_the_scoped_fields_after_its_record_is_on_kafka(
    data: DataHarness, caplog: pytest.LogCaptureFixture
) -> None:
    token = data.token("user.info.basic", "user.info.profile", "user.info.stats")
    grant = data.issued[token]
    with caplog.at_level(logging.INFO, logger="auth.data"):
        answer = await data.http.get(f"/v2/user/info/?fields={ALL_INFO}", headers=bearer(token))

    assert answer.status_code == 200, answer.text
    body = json.loads(answer.content)
    assert body["data"] == {
        "user": {
            "open_id": grant.pairwise_subject,
            "display_name": "Chiara Rhee",
            "avatar_url": "https://cdn.example/chiara.png",
            "bio_description": "Ceramics, slowly.",
            "profile_deep_link": f"https://auth.test/u/{grant.pairwise_subject}",
            "video_count": VIDEOS,
        }
    }
    log_id = body["error"]["log_id"]
    assert body["error"] == {"code": "ok", "message": "", "log_id": log_id}
    assert answer.headers["cache-control"] == "no-store"
    assert data.probe.seen == [1]  # the record was on the topic when the answer started
    [event] = await data.records(1)
    record = event.data
    assert record.digest_sha256 == hashlib.sha256(answer.content).hexdigest()
    assert record.fields_released == tuple(ALL_INFO.split(","))
    assert record.scopes_used == ("user.info.basic", "user.info.profile", "user.info.stats")
    assert (record.consent_id, record.consent_version) == (grant.consent_id, 1)
    assert (record.app_id, record.pairwise_subject) == (grant.client_id, grant.pairwise_subject)
    assert (record.user_key, record.request_id) == (data.user_key, log_id)
    assert event.subject == data.user_key
    assert data.user_key not in answer.text
    assert [r.log_id for r in caplog.records if hasattr(r, "log_id")] == [log_id]


async def test_each_scope_releases_only_its_own_fields(data: DataHarness) -> None:
    basic = data.token("user.info.basic")
    answer = await data.http.get(
        "/v2/user/info?fields=open_id,avatar_url", headers=bearer(basic)
    )  # without the trailing slash too
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["data"]["user"]) == {"open_id", "avatar_url"}
    stats = data.token("user.info.stats")
    counted = await data.http.get("/v2/user/info/?fields=video_count", headers=bearer(stats))
    assert counted.json()["data"] == {"user": {"video_count": VIDEOS}}
    records = [e.data for e in await data.records(2)]
    assert sorted(r.scopes_used for r in records) == [("user.info.basic",), ("user.info.stats",)]


async def test_the_video_list_pages_newest_first_each_page_on_the_record(
    data: DataHarness,
) -> None:
    token = data.token("video.list")
    fields = "id,title,cover_image_url,duration,create_time"
    pages, cursor, bodies = [], None, []
    for _ in range(3):
        answer = await data.http.post(
            f"/v2/video/list/?fields={fields}",
            json={"cursor": cursor, "max_count": 2},
            headers=bearer(token),
        )
        assert answer.status_code == 200, answer.text
        bodies.append(answer.content)
        page = answer.json()["data"]
        pages.append(page)
        cursor = page["cursor"]
    ids = [v["id"] for p in pages for v in p["videos"]]
    assert ids == ["vid-4", "vid-3", "vid-2", "vid-1", "vid-0"]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert pages[2]["cursor"] is None
    assert pages[0]["videos"][0] == {
        "id": "vid-4",
        "title": "Kiln day 4",
        "cover_image_url": "https://cdn.example/k4.jpg",
        "duration": 34,
        "create_time": (1_764_000_000_000 + 4 * 60_000) // 1000,
    }
    assert data.probe.seen == [1, 2, 3]
    records = [e.data for e in await data.records(3)]
    digests = {r.digest_sha256 for r in records}
    assert digests == {hashlib.sha256(b).hexdigest() for b in bodies}
    assert {r.fields_released for r in records} == {tuple(fields.split(","))}
    assert {r.scopes_used for r in records} == {("video.list",)}


async def test_oidc_userinfo_by_get_and_post_gives_the_scoped_claims_on_the_record(
    data: DataHarness,
) -> None:
    token = data.token("openid", "user.info.profile")
    grant = data.issued[token]
    got = await data.http.get("/oauth/userinfo", headers=bearer(token))
    posted = await data.http.post(
        "/oauth/userinfo",
        content=f"access_token={token}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    for answer in (got, posted):
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "sub": grant.pairwise_subject,
            "name": "Chiara Rhee",
            "picture": "https://cdn.example/chiara.png",
            "profile": f"https://auth.test/u/{grant.pairwise_subject}",
        }
    records = [e.data for e in await data.records(2)]
    assert {r.digest_sha256 for r in records} == {
        hashlib.sha256(a.content).hexdigest() for a in (got, posted)
    }
    assert {r.fields_released for r in records} == {("sub", "name", "picture", "profile")}
    assert data.probe.seen == [1, 2]


async def test_32_concurrent_requests_each_get_their_own_acknowledged_record(
    data: DataHarness,
) -> None:
    tokens = [data.token("user.info.basic") for _ in range(32)]
    answers = await asyncio.gather(
        *(
            data.http.get("/v2/user/info/?fields=open_id,display_name", headers=bearer(t))
            for t in tokens
        )
    )
    assert [a.status_code for a in answers] == [200] * 32
    records = [e.data for e in await data.records(32)]
    by_request = {r.request_id: r for r in records}
    assert len(by_request) == 32
    for token, answer in zip(tokens, answers, strict=True):
        record = by_request[answer.json()["error"]["log_id"]]
        assert record.digest_sha256 == hashlib.sha256(answer.content).hexdigest()
        assert record.app_id == data.issued[token].client_id
    assert min(data.probe.seen) >= 1
