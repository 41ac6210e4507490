"""Profile and video rules (item 8 of issue 15): every limit refuses with its reason."""

from __future__ import annotations

import pytest

from auth.domain import profile as rules
from auth.domain.profile import Profile, ProfileInvalid, TooManyVideos, VideoNotFound
from auth.domain.video_page import MAX_PAGE, decode_cursor, encode_cursor, page_of


def _video(i: int, *, created_ms: int | None = None) -> rules.Video:
    return rules.new_video(
        video_id=f"v{i:03d}",
        title=f"clip {i}",
        cover_url=f"https://cdn.example.com/{i}.jpg",
        duration_s=10,
        created_ms=1_000 * i if created_ms is None else created_ms,
        development=False,
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/a.png",
        "https://cdn.example.com:8443/a.png?x=1",
    ],
)
def test_https_urls_are_taken(url: str) -> None:
    assert rules.check_url(url, field="avatar_url", development=False) == url


@pytest.mark.parametrize(
    ("url", "development", "rule"),
    [
        ("http://cdn.example.com/a.png", False, "https"),
        ("http://cdn.example.com/a.png", True, "loopback"),
        ("http://127.0.0.1/a.png", False, "https"),
        ("javascript:alert(1)", True, "absolute"),
        ("/relative.png", False, "absolute"),
        ("https:///no-host", False, "absolute"),
        ("https://user:pw@cdn.example.com/a.png", False, "user name"),
        ("https://cdn.example.com/a b.png", False, "spaces"),
        ("https://cdn.example.com:port/a.png", False, "not a URL"),
        ("https://cdn.example.com/" + "a" * rules.MAX_URL, False, "longer"),
    ],
)
def test_bad_urls_are_refused_with_the_rule(url: str, development: bool, rule: str) -> None:
    with pytest.raises(ProfileInvalid, match=rule) as caught:
        rules.check_url(url, field="avatar_url", development=development)
    assert caught.value.field == "avatar_url"
    assert url not in str(caught.value)  # the reason names the rule, never the value


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/a.png", "http://[::1]/a", "http://localhost/a"]
)
def test_loopback_http_only_in_development(url: str) -> None:
    assert rules.check_url(url, field="cover_image_url", development=True) == url
    with pytest.raises(ProfileInvalid):
        rules.check_url(url, field="cover_image_url", development=False)


@pytest.mark.parametrize(
    ("name", "bio", "field"),
    [
        ("", "", "display_name"),
        ("   ", "", "display_name"),
        ("x" * 65, "", "display_name"),
        ("ok\x00", "", "display_name"),
        ("ok", "b" * 501, "bio"),
        ("ok", "bell\x07", "bio"),
    ],
)
def test_bad_profile_text_is_refused(name: str, bio: str, field: str) -> None:
    with pytest.raises(ProfileInvalid) as caught:
        rules.edited(Profile(), display_name=name, avatar_url=None, bio=bio, development=False)
    assert caught.value.field == field


def test_an_edit_keeps_the_videos_and_trims_text() -> None:
    before = rules.with_video(Profile(), _video(1))
    after = rules.edited(
        before, display_name="  Ada  ", avatar_url=None, bio="line 1\nline 2", development=False
    )
    assert (after.display_name, after.bio, after.videos) == ("Ada", "line 1\nline 2", before.videos)


@pytest.mark.parametrize(
    ("duration", "ok"), [(0, False), (1, True), (36_000, True), (36_001, False)]
)
def test_duration_bounds(duration: int, ok: bool) -> None:
    def make() -> rules.Video:
        return rules.new_video(
            video_id="v",
            title="t",
            cover_url="https://c.example/x.jpg",
            duration_s=duration,
            created_ms=0,
            development=False,
        )

    if ok:
        assert make().duration_s == duration
    else:
        with pytest.raises(ProfileInvalid, match="duration"):
            make()


def test_title_bounds() -> None:
    with pytest.raises(ProfileInvalid, match="title"):
        rules.new_video(
            video_id="v",
            title="t" * 151,
            cover_url="https://c.example/x.jpg",
            duration_s=5,
            created_ms=0,
            development=False,
        )


def test_video_list_is_bounded_and_ids_are_not_repeated() -> None:
    p = Profile()
    for i in range(rules.MAX_VIDEOS):
        p = rules.with_video(p, _video(i))
    assert rules.with_video(p, _video(0)) is p  # same id again: nothing changes
    with pytest.raises(TooManyVideos):
        rules.with_video(p, _video(rules.MAX_VIDEOS))
    p = rules.without_video(p, "v000")
    assert len(p.videos) == rules.MAX_VIDEOS - 1
    with pytest.raises(VideoNotFound):
        rules.without_video(p, "v000")


def test_stored_form_round_trips() -> None:
    p = rules.edited(
        rules.with_video(Profile(), _video(7)),
        display_name="Ada",
        avatar_url="https://a.example/p.png",
        bio="hi",
        development=False,
    )
    assert rules.from_body(rules.to_body(p)) == p


def test_pages_are_newest_first_and_stable_while_videos_are_added() -> None:
    videos = tuple(_video(i) for i in range(25))
    first = page_of(videos, cursor=None, max_count=10)
    assert [v.video_id for v in first.videos] == [f"v{i:03d}" for i in range(24, 14, -1)]
    assert first.has_more
    # Newer videos arrive between two page requests: the next page goes on where it stopped.
    grown = videos + tuple(_video(i) for i in range(100, 105))
    second = page_of(grown, cursor=first.cursor, max_count=10)
    third = page_of(grown, cursor=second.cursor, max_count=10)
    seen = [v.video_id for v in (*first.videos, *second.videos, *third.videos)]
    assert seen == [f"v{i:03d}" for i in range(24, -1, -1)]
    assert not third.has_more
    assert third.cursor is None


def test_videos_of_the_same_millisecond_are_neither_skipped_nor_repeated() -> None:
    videos = tuple(_video(i, created_ms=5) for i in range(7))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = page_of(videos, cursor=cursor, max_count=3)
        seen += [v.video_id for v in page.videos]
        if page.cursor is None:
            break
        cursor = page.cursor
    assert sorted(seen) == sorted(v.video_id for v in videos)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("cursor", ["", "!!", "bm90LW91cnM", "djE6YWJjOg", "x" * 201])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    if cursor == "":
        assert page_of((), cursor=cursor, max_count=1).videos == ()  # empty: the first page
        return
    with pytest.raises(ProfileInvalid, match="cursor"):
        decode_cursor(cursor)


def test_cursor_round_trips_and_page_size_is_bounded() -> None:
    v = _video(3)
    assert decode_cursor(encode_cursor(v)) == (v.created_ms, v.video_id)
    for bad in (0, MAX_PAGE + 1):
        with pytest.raises(ProfileInvalid, match="max_count"):
            page_of((), cursor=None, max_count=bad)
