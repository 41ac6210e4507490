"""`/v1/me/profile` and `/v1/me/videos` on the real servers (item 8 of issue 15)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from profile_testing import logged_in

from auth.domain.profile import MAX_VIDEOS
from auth_testing import AuthHarness

pytestmark = pytest.mark.integration

PROFILE = {
    "display_name": "Ada Lumen",
    "avatar_url": "https://cdn.example.com/ada.png",
    "bio": "Time-lapses of desk lamps.",
}


def _video(i: int) -> dict[str, Any]:
    return {
        "title": f"clip {i}",
        "cover_image_url": f"https://cdn.example.com/c{i}.jpg",
        "duration": 10 + i,
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/me/profile"),
        ("PUT", "/v1/me/profile"),
        ("GET", "/v1/me/videos"),
        ("POST", "/v1/me/videos"),
        ("DELETE", "/v1/me/videos/abc"),
    ],
)
async def test_without_a_session_every_route_is_401(
    auth: AuthHarness, method: str, path: str
) -> None:
    body = PROFILE if method == "PUT" else _video(1) if method == "POST" else None
    answer = await auth.http.request(method, path, json=body)
    assert answer.status_code == 401
    forged = await auth.http.request(
        method, path, json=body, headers={"cookie": f"{auth.settings.session_cookie}=forged"}
    )
    assert forged.status_code == 401


async def test_profile_is_empty_then_edited(auth: AuthHarness) -> None:
    me = await logged_in(auth)
    first = await auth.http.get("/v1/me/profile", headers=me)
    assert first.status_code == 200
    assert first.json() == {"display_name": "", "avatar_url": None, "bio": "", "video_count": 0}
    put = await auth.http.put("/v1/me/profile", json=PROFILE, headers=me)
    assert put.status_code == 200
    assert put.json() == {**PROFILE, "video_count": 0}
    assert (await auth.http.get("/v1/me/profile", headers=me)).json() == {
        **PROFILE,
        "video_count": 0,
    }
    # Another user sees their own, empty profile.
    other = await auth.http.get("/v1/me/profile", headers=await logged_in(auth))
    assert other.json()["display_name"] == ""


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"display_name": ""}, "display_name", "at least 1"),
        ({"display_name": "x" * 65}, "display_name", "at most 64"),
        ({"display_name": "   "}, "display_name", "1 to 64"),
        ({"bio": "b" * 501}, "bio", "at most 500"),
        ({"avatar_url": "http://cdn.example.com/a.png"}, "avatar_url", "https"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url", "absolute"),
        ({"avatar_url": "https://u:p@cdn.example.com/a"}, "avatar_url", "user name"),
        ({"display_name": 5}, "display_name", "string"),
        ({"surprise": 1}, "surprise", "not permitted"),
    ],
)
async def test_bad_profiles_are_422_with_the_reason(
    auth: AuthHarness, change: dict[str, Any], field: str, reason: str
) -> None:
    answer = await auth.http.put(
        "/v1/me/profile", json={**PROFILE, **change}, headers=await logged_in(auth)
    )
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["detail"]
    assert error["loc"][-1] == field
    assert reason in error["msg"]


async def test_loopback_http_urls_are_taken_in_development(auth: AuthHarness) -> None:
    body = {**PROFILE, "avatar_url": "http://127.0.0.1:8080/a.png"}
    answer = await auth.http.put("/v1/me/profile", json=body, headers=await logged_in(auth))
    assert answer.status_code == 200
    assert answer.json()["avatar_url"] == "http://127.0.0.1:8080/a.png"


async def test_videos_are_added_listed_paged_and_deleted(auth: AuthHarness) -> None:
    me = await logged_in(auth)
    ids = []
    for i in range(5):
        added = await auth.http.post("/v1/me/videos", json=_video(i), headers=me)
        assert added.status_code == 201, added.text
        body = added.json()
        assert body["title"] == f"clip {i}"
        assert body["duration"] == 10 + i
        assert isinstance(body["create_time"], int)
        ids.append(body["id"])
        await asyncio.sleep(0.002)  # distinct milliseconds, so "newest first" is checkable
    page = (await auth.http.get("/v1/me/videos", params={"max_count": 2}, headers=me)).json()
    assert [v["id"] for v in page["videos"]] == ids[::-1][:2]
    assert page["has_more"]
    rest = await auth.http.get(
        "/v1/me/videos", params={"max_count": 20, "cursor": page["cursor"]}, headers=me
    )
    assert [v["id"] for v in rest.json()["videos"]] == ids[::-1][2:]
    assert rest.json() == {**rest.json(), "has_more": False, "cursor": None}
    gone = await auth.http.delete(f"/v1/me/videos/{ids[0]}", headers=me)
    assert gone.status_code == 204
    assert (await auth.http.delete(f"/v1/me/videos/{ids[0]}", headers=me)).status_code == 404
    left = (await auth.http.get("/v1/me/videos", headers=me)).json()["videos"]
    assert [v["id"] for v in left] == ids[::-1][:4]
    assert (await auth.http.get("/v1/me/profile", headers=me)).json()["video_count"] == 4


async def test_another_users_video_cannot_be_deleted(auth: AuthHarness) -> None:
    owner, stranger = await logged_in(auth), await logged_in(auth)
    video = (await auth.http.post("/v1/me/videos", json=_video(1), headers=owner)).json()
    answer = await auth.http.delete(f"/v1/me/videos/{video['id']}", headers=stranger)
    assert answer.status_code == 404
    assert len((await auth.http.get("/v1/me/videos", headers=owner)).json()["videos"]) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "t" * 151}, "title"),
        ({"duration": 0}, "duration"),
        ({"duration": 36_001}, "duration"),
        ({"duration": "12"}, "duration"),
        ({"duration": 1.5}, "duration"),
        ({"cover_image_url": "ftp://cdn.example.com/c.jpg"}, "cover_image_url"),
        ({"cover_image_url": "https://cdn.example.com/" + "c" * 2048}, "cover_image_url"),
    ],
)
async def test_bad_videos_are_422(auth: AuthHarness, change: dict[str, Any], field: str) -> None:
    answer = await auth.http.post(
        "/v1/me/videos", json={**_video(1), **change}, headers=await logged_in(auth)
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"][-1] == field


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"max_count": 0},
        {"max_count": 21},
        {"max_count": "x"},
        {"cursor": "c" * 201},
    ],
)
async def test_bad_page_requests_are_422(auth: AuthHarness, params: dict[str, Any]) -> None:
    answer = await auth.http.get("/v1/me/videos", params=params, headers=await logged_in(auth))
    assert answer.status_code == 422, answer.text


async def test_bad_bodies_and_paths_are_4xx(auth: AuthHarness) -> None:
    me = await logged_in(auth)
    not_json = await auth.http.post(
        "/v1/me/videos", content=b"{", headers={**me, "content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert (await auth.http.post("/v1/me/videos", json=[1], headers=me)).status_code == 422
    assert (await auth.http.delete("/v1/me/videos/bad%20id", headers=me)).status_code == 422


async def test_the_video_list_is_bounded(auth: AuthHarness) -> None:
    me = await logged_in(auth)
    profiles = auth.container.profiles
    session_user = await auth.container.sessions.resolve(me["cookie"].split("=", 1)[1])
    assert session_user is not None
    for i in range(MAX_VIDEOS):
        await profiles.add_video(
            session_user.user_key, title=f"v{i}", cover_url="https://c.example/x.jpg", duration_s=5
        )
    refused = await auth.http.post("/v1/me/videos", json=_video(1), headers=me)
    assert refused.status_code == 409
    assert f"at most {MAX_VIDEOS}" in refused.json()["detail"]


async def test_16_concurrent_video_adds_all_land(auth: AuthHarness) -> None:
    me = await logged_in(auth)
    answers = await asyncio.gather(
        *(auth.http.post("/v1/me/videos", json=_video(i), headers=me) for i in range(16))
    )
    assert [a.status_code for a in answers] == [201] * 16
    listed = (await auth.http.get("/v1/me/videos", headers=me)).json()["videos"]
    assert sorted(v["id"] for v in listed) == sorted(a.json()["id"] for a in answers)


async def test_concurrent_profile_edits_and_video_adds_lose_nothing(auth: AuthHarness) -> None:
    me = await logged_in(auth)
    names = [f"name {i}" for i in range(8)]
    edits = [
        auth.http.put("/v1/me/profile", json={**PROFILE, "display_name": n}, headers=me)
        for n in names
    ]
    adds = [auth.http.post("/v1/me/videos", json=_video(i), headers=me) for i in range(8)]
    answers = await asyncio.gather(*edits, *adds)
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    profile = (await auth.http.get("/v1/me/profile", headers=me)).json()
    assert profile["video_count"] == 8  # no edit overwrote a concurrent add
    assert profile["display_name"] in names  # one whole edit won, never a mix
    assert profile["bio"] == PROFILE["bio"]
