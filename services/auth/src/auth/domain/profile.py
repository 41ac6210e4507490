"""A user's public profile and videos: the data the Login Kit shares, with its limits.

One `Profile` value holds everything (display name, avatar, bio and the video list), so one
versioned document per user serves a Login Kit read with a single `_id` lookup.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

MAX_DISPLAY_NAME = 64
MAX_BIO = 500
MAX_TITLE = 150
MAX_URL = 2048
MIN_DURATION_S = 1
MAX_DURATION_S = 36_000
MAX_VIDEOS = 100  # per user: keeps the one document small (< 300 KB at every field's limit)
MAX_VIDEO_ID = 64


class ProfileInvalid(ValueError):
    """A value breaks a profile rule; `field` names it and the message says which rule."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


class TooManyVideos(Exception):
    """The user already has `MAX_VIDEOS` videos."""


class VideoNotFound(Exception):
    """No video with that id in this user's list."""


@dataclass(frozen=True, slots=True)
class Video:
    """One public video: `created_ms` (Unix milliseconds) orders the list, newest first."""

    video_id: str
    title: str
    cover_url: str
    duration_s: int
    created_ms: int


@dataclass(frozen=True, slots=True)
class Profile:
    """What a user shows: an empty display name means not set yet."""

    display_name: str = ""
    avatar_url: str | None = None
    bio: str = ""
    videos: tuple[Video, ...] = ()


def check_url(value: str, *, field: str, development: bool) -> str:
    """An absolute https URL (http to loopback too in development), without credentials."""
    if len(value) > MAX_URL:
        raise ProfileInvalid(field, f"{field} is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise ProfileInvalid(field, f"{field} is not a URL") from exc
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in value):
        raise ProfileInvalid(field, f"{field} has spaces or control characters")
    if parts.username is not None or parts.password is not None:
        raise ProfileInvalid(field, f"{field} must not carry a user name or password")
    if parts.scheme == "https" and host:
        return value
    if development and parts.scheme == "http" and _loopback(host):
        return value
    allowed = "https (or http to loopback in development)" if development else "https"
    raise ProfileInvalid(field, f"{field} must be an absolute {allowed} URL")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_text(
    value: str, *, field: str, longest: int, shortest: int = 0, lines: bool = False
) -> str:
    """A text of `shortest`..`longest` characters, without control characters (newlines only
    where `lines`), with surrounding whitespace removed."""
    value = value.strip()
    if not shortest <= len(value) <= longest:
        raise ProfileInvalid(field, f"{field} must have {shortest} to {longest} characters")
    allowed = {"\n", "\r", "\t"} if lines else set()
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        raise ProfileInvalid(field, f"{field} has control characters")
    return value


def edited(
    profile: Profile, *, display_name: str, avatar_url: str | None, bio: str, development: bool
) -> Profile:
    """The profile with its three fields replaced (the videos stay as they are)."""
    name = check_text(display_name, field="display_name", shortest=1, longest=MAX_DISPLAY_NAME)
    avatar = (
        check_url(avatar_url, field="avatar_url", development=development) if avatar_url else None
    )
    text = check_text(bio, field="bio", longest=MAX_BIO, lines=True)
    return replace(profile, display_name=name, avatar_url=avatar, bio=text)


def new_video(
    *,
    video_id: str,
    title: str,
    cover_url: str,
    duration_s: int,
    created_ms: int,
    development: bool,
) -> Video:
    """A checked video."""
    if not 0 < len(video_id) <= MAX_VIDEO_ID:
        raise ProfileInvalid("id", f"a video id has 1 to {MAX_VIDEO_ID} characters")
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise ProfileInvalid(
            "duration", f"duration must be {MIN_DURATION_S} to {MAX_DURATION_S} seconds"
        )
    return Video(
        video_id=video_id,
        title=check_text(title, field="title", shortest=1, longest=MAX_TITLE),
        cover_url=check_url(cover_url, field="cover_image_url", development=development),
        duration_s=duration_s,
        created_ms=created_ms,
    )


def with_video(profile: Profile, video: Video) -> Profile:
    """The profile with one more video (the same id again changes nothing)."""
    if any(v.video_id == video.video_id for v in profile.videos):
        return profile
    if len(profile.videos) >= MAX_VIDEOS:
        raise TooManyVideos(f"at most {MAX_VIDEOS} videos per user: delete one first")
    return replace(profile, videos=(*profile.videos, video))


def without_video(profile: Profile, video_id: str) -> Profile:
    """The profile without one video; VideoNotFound if it has no such video."""
    kept = tuple(v for v in profile.videos if v.video_id != video_id)
    if len(kept) == len(profile.videos):
        raise VideoNotFound("no such video")
    return replace(profile, videos=kept)


def to_body(profile: Profile) -> dict[str, Any]:
    """The stored form (plain types only)."""
    return {
        "display_name": profile.display_name,
        "avatar_url": profile.avatar_url,
        "bio": profile.bio,
        "videos": [
            {
                "id": v.video_id,
                "title": v.title,
                "cover_url": v.cover_url,
                "duration_s": v.duration_s,
                "created_ms": v.created_ms,
            }
            for v in profile.videos
        ],
    }


def from_body(body: dict[str, Any]) -> Profile:
    """The profile a stored body holds."""
    return Profile(
        display_name=str(body.get("display_name", "")),
        avatar_url=body.get("avatar_url"),
        bio=str(body.get("bio", "")),
        videos=tuple(
            Video(
                video_id=str(v["id"]),
                title=str(v["title"]),
                cover_url=str(v["cover_url"]),
                duration_s=int(v["duration_s"]),
                created_ms=int(v["created_ms"]),
            )
            for v in body.get("videos", [])
        ),
    )
