"""Pages of a user's videos, newest first, with an opaque cursor.

The cursor names the position of the last video a page returned, `(created_ms, video_id)`, not
an offset: videos added while a client pages (they are newer) or deleted never shift a page,
so no video is skipped or repeated.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from auth.domain.profile import ProfileInvalid, Video

MAX_PAGE = 20
MAX_CURSOR = 200
_PREFIX = "v1:"


@dataclass(frozen=True, slots=True)
class VideoPage:
    """Up to `max_count` videos; `cursor` asks for the next page (None: this was the last)."""

    videos: tuple[Video, ...]
    cursor: str | None

    @property
    def has_more(self) -> bool:
        """Whether another page follows."""
        return self.cursor is not None


def _order(video: Video) -> tuple[int, str]:
    return (video.created_ms, video.video_id)


def page_of(videos: tuple[Video, ...], *, cursor: str | None, max_count: int) -> VideoPage:
    """The page after `cursor` (the first page without one)."""
    if not 1 <= max_count <= MAX_PAGE:
        raise ProfileInvalid("max_count", f"max_count must be 1 to {MAX_PAGE}")
    ordered = sorted(videos, key=_order, reverse=True)
    if cursor:
        after = decode_cursor(cursor)
        ordered = [v for v in ordered if _order(v) < after]
    chosen = tuple(ordered[:max_count])
    more = len(ordered) > max_count
    return VideoPage(videos=chosen, cursor=encode_cursor(chosen[-1]) if more else None)


def encode_cursor(video: Video) -> str:
    """The cursor that continues after `video`."""
    raw = f"{_PREFIX}{video.created_ms}:{video.video_id}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The position a cursor names; ProfileInvalid when it is not one of ours."""
    bad = ProfileInvalid("cursor", "cursor is not one this service returned")
    if len(cursor) > MAX_CURSOR:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise bad from exc
    if not raw.startswith(_PREFIX):
        raise bad
    millis, sep, video_id = raw.removeprefix(_PREFIX).partition(":")
    if not sep or not millis.isdigit() or not video_id:
        raise bad
    return (int(millis), video_id)
