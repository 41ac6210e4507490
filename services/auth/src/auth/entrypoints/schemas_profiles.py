"""HTTP shapes of profiles and videos (field names follow the Login Kit's data API)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from auth.domain import profile as rules


class ProfileUpdate(BaseModel):
    """The whole editable profile (PUT replaces all three fields; the videos are separate)."""

    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=rules.MAX_DISPLAY_NAME)
    avatar_url: str | None = Field(default=None, max_length=rules.MAX_URL)
    bio: str = Field(default="", max_length=rules.MAX_BIO)


class ProfilePublic(BaseModel):
    """A profile as its owner sees it; an empty `display_name` means not set yet."""

    display_name: str
    avatar_url: str | None
    bio: str
    video_count: int


class VideoCreate(BaseModel):
    """A public video to list on the profile."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=rules.MAX_TITLE)
    cover_image_url: str = Field(min_length=1, max_length=rules.MAX_URL)
    duration: int = Field(
        strict=True, ge=rules.MIN_DURATION_S, le=rules.MAX_DURATION_S, description="seconds"
    )


class VideoPublic(BaseModel):
    """One video; `create_time` is Unix seconds (UTC)."""

    id: str
    title: str
    cover_image_url: str
    duration: int
    create_time: int


class VideoPagePublic(BaseModel):
    """Videos newest first; pass `cursor` back for the next page while `has_more`."""

    videos: list[VideoPublic]
    cursor: str | None
    has_more: bool
