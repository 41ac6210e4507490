"""The data API's handlers with fakes of its own ports: what is released, what is recorded,
and that nothing is released or recorded when a rule, the consent or the record says no."""

from __future__ import annotations

import hashlib
import json

import pytest
from oauth_fakes import FakeAccessTokens, FakeConsentCheck, FakeTransfers, covered, new_grant

from auth.domain.grants import ConsentAnswer, Grant
from auth.domain.profile import Profile, Video
from auth.domain.video_page import page_of
from auth.service.data_api import DataApi, DataRefused
from auth.service.profiles import ProfilePage

PROFILE = Profile(
    display_name="Ada Lumen",
    avatar_url="https://cdn.example/ada.png",
    bio="Light and film.",
    videos=tuple(
        Video(f"v{n}", f"Clip {n}", f"https://cdn.example/{n}.jpg", 10 + n, 1_700_000_000_000 + n)
        for n in range(3)
    ),
)


class FakeProfiles:
    """Every user has PROFILE; counts the reads."""

    def __init__(self) -> None:
        self.reads = 0

    async def page(self, user_key: str, *, cursor: str | None, max_count: int) -> ProfilePage:
        self.reads += 1
        page = page_of(PROFILE.videos, cursor=cursor, max_count=max_count)
        return ProfilePage(profile=PROFILE, page=page, video_count=len(PROFILE.videos))


class World:
    """The handlers on fakes, with one user's grant."""

    def __init__(self, *scopes: str) -> None:
        self.tokens, self.consent, self.transfers = (
            FakeAccessTokens(),
            FakeConsentCheck(),
            FakeTransfers(),
        )
        self.api = DataApi(
            access_tokens=self.tokens,
            consent_check=self.consent,
            transfers=self.transfers,
            profiles=FakeProfiles(),
            issuer="https://auth.test",
        )
        self.grant: Grant = new_grant(scopes=scopes)
        self.token = self.tokens.issue(self.grant)
        self.consent.answers[(self.grant.user_key, self.grant.client_id)] = covered(self.grant)


async def test_user_info_releases_exactly_the_fields_asked_and_records_those_bytes() -> None:
    w = World("user.info.basic", "user.info.profile", "user.info.stats")
    body = await w.api.user_info(
        token=w.token, fields="open_id,display_name,profile_deep_link,video_count", log_id="L1"
    )
    assert json.loads(body) == {
        "data": {
            "user": {
                "open_id": w.grant.pairwise_subject,
                "display_name": "Ada Lumen",
                "profile_deep_link": f"https://auth.test/u/{w.grant.pairwise_subject}",
                "video_count": 3,
            }
        },
        "error": {"code": "ok", "message": "", "log_id": "L1"},
    }
    [record] = w.transfers.records
    assert record.digest == hashlib.sha256(body).hexdigest()
    assert record.fields_released == ("open_id", "display_name", "profile_deep_link", "video_count")
    assert record.scopes_used == ("user.info.basic", "user.info.profile", "user.info.stats")
    assert record.request_id == "L1"
    assert w.consent.calls == [(w.grant.user_key, w.grant.client_id, record.scopes_used)]
    assert w.grant.user_key.encode() not in body


async def test_a_field_outside_the_scopes_is_refused_before_the_consent_and_the_record() -> None:
    w = World("user.info.basic")
    with pytest.raises(DataRefused) as refused:
        await w.api.user_info(token=w.token, fields="open_id,bio_description", log_id="L")
    assert refused.value.kind == "scope_not_authorized"
    assert "bio_description" in refused.value.message
    assert (w.consent.calls, w.transfers.records) == ([], [])


@pytest.mark.parametrize(
    "answer",
    [
        ConsentAnswer(False, "revoked"),
        ConsentAnswer(False, "terms_changed"),
        ConsentAnswer(False, "no_consent"),
    ],
)
async def test_a_consent_that_says_no_releases_and_records_nothing(answer: ConsentAnswer) -> None:
    w = World("user.info.basic")
    w.consent.answers[(w.grant.user_key, w.grant.client_id)] = answer
    with pytest.raises(DataRefused) as refused:
        await w.api.user_info(token=w.token, fields="open_id", log_id="L")
    assert refused.value.kind == "consent_revoked"
    assert answer.reason in refused.value.message
    assert w.transfers.records == []


async def test_a_token_of_an_ended_consent_is_refused_though_a_new_one_covers() -> None:
    w = World("user.info.basic")
    renewed = ConsentAnswer(True, "covered", consent_id="cn_newer", version=1, terms_version="t")
    w.consent.answers[(w.grant.user_key, w.grant.client_id)] = renewed
    with pytest.raises(DataRefused, match="has ended") as refused:
        await w.api.user_info(token=w.token, fields="open_id", log_id="L")
    assert refused.value.kind == "consent_revoked"
    assert w.transfers.records == []


async def test_an_unavailable_consent_check_is_a_503_refusal() -> None:
    w = World("user.info.basic")
    api = DataApi(
        access_tokens=w.tokens,
        consent_check=FakeConsentCheck(unavailable=True),
        transfers=w.transfers,
        profiles=FakeProfiles(),
        issuer="https://auth.test",
    )
    with pytest.raises(DataRefused) as refused:
        await api.user_info(token=w.token, fields="open_id", log_id="L")
    assert refused.value.kind == "service_unavailable"
    assert w.transfers.records == []


async def test_a_failed_record_releases_nothing() -> None:
    w = World("video.list")
    w.transfers.failing = True
    with pytest.raises(DataRefused) as refused:
        await w.api.video_list(token=w.token, fields="id,title", body=b"{}", log_id="L")
    assert refused.value.kind == "service_unavailable"
    assert "nothing was sent" in refused.value.message


@pytest.mark.parametrize("token", ["", "not-a-token"])
async def test_an_unknown_or_missing_token_is_refused(token: str) -> None:
    w = World("user.info.basic")
    with pytest.raises(DataRefused) as refused:
        await w.api.user_info(token=token, fields="open_id", log_id="L")
    assert refused.value.kind == "access_token_invalid"
    assert w.consent.calls == []


async def test_the_video_list_pages_newest_first_with_the_fields_asked() -> None:
    w = World("video.list")
    first = json.loads(
        await w.api.video_list(
            token=w.token, fields="id,create_time", body=b'{"max_count": 2}', log_id="A"
        )
    )["data"]
    assert first["videos"] == [
        {"id": "v2", "create_time": 1_700_000_000},
        {"id": "v1", "create_time": 1_700_000_000},
    ]
    assert first["has_more"] is True
    body = json.dumps({"cursor": first["cursor"], "max_count": 2}).encode()
    second = json.loads(
        await w.api.video_list(token=w.token, fields="title", body=body, log_id="B")
    )
    assert second["data"] == {"videos": [{"title": "Clip 0"}], "cursor": None, "has_more": False}
    assert [r.fields_released for r in w.transfers.records] == [("id", "create_time"), ("title",)]
    assert {r.scopes_used for r in w.transfers.records} == {("video.list",)}


@pytest.mark.parametrize(
    "body", [b'{"cursor": "bm90LW91cnM"}', b'{"max_count": 50}', b"nope", b'{"cursor": 5}']
)
async def test_a_bad_video_request_is_invalid_params_before_any_read(body: bytes) -> None:
    w = World("video.list")
    with pytest.raises(DataRefused) as refused:
        await w.api.video_list(token=w.token, fields="id", body=body, log_id="L")
    assert refused.value.kind == "invalid_params"
    assert (w.consent.calls, w.transfers.records) == ([], [])


async def test_userinfo_gives_the_claims_the_scopes_allow() -> None:
    w = World("openid", "user.info.basic")
    claims = json.loads(await w.api.userinfo(token=w.token, log_id="L"))
    assert claims == {
        "sub": w.grant.pairwise_subject,
        "name": "Ada Lumen",
        "picture": "https://cdn.example/ada.png",
    }
    [record] = w.transfers.records
    assert record.fields_released == ("sub", "name", "picture")
    assert w.consent.calls[0][2] == ("user.info.basic",)  # openid is not a consented scope


async def test_userinfo_without_openid_is_insufficient_scope() -> None:
    w = World("user.info.basic")
    with pytest.raises(DataRefused) as refused:
        await w.api.userinfo(token=w.token, log_id="L")
    assert (refused.value.kind, refused.value.needs) == ("scope_not_authorized", ("openid",))
    assert w.transfers.records == []
