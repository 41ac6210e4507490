"""`/v1/me/profile` and `/v1/me/videos`: the logged-in user's profile and public videos."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from fastapi.exceptions import RequestValidationError

from auth.domain.profile import Profile, ProfileInvalid, TooManyVideos, Video, VideoNotFound
from auth.domain.video_page import MAX_CURSOR, MAX_PAGE
from auth.entrypoints.deps import CurrentSession, Deps
from auth.entrypoints.schemas_profiles import (
    ProfilePublic,
    ProfileUpdate,
    VideoCreate,
    VideoPagePublic,
    VideoPublic,
)
from auth.service.profiles import ProfileBusy
from shared.http import Problem

router = APIRouter(prefix="/v1/me", tags=["profile"])
_401: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no live session cookie: log in first"}
}
_409: dict[int | str, dict[str, Any]] = {
    409: {
        "model": Problem,
        "description": "too many concurrent edits, or the video limit is reached",
    }
}
_404: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "no such video"}}


def _invalid(exc: ProfileInvalid, *, where: str) -> RequestValidationError:
    # The same 422 shape pydantic's own checks give, naming the field and the rule, not the value.
    return RequestValidationError(
        [{"type": "value_error", "loc": (where, exc.field), "msg": str(exc)}]
    )


def _busy(exc: ProfileBusy | TooManyVideos) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


def _profile(p: Profile) -> ProfilePublic:
    return ProfilePublic(
        display_name=p.display_name, avatar_url=p.avatar_url, bio=p.bio, video_count=len(p.videos)
    )


def video_public(v: Video) -> VideoPublic:
    """A video as the API shows it."""
    return VideoPublic(
        id=v.video_id,
        title=v.title,
        cover_image_url=v.cover_url,
        duration=v.duration_s,
        create_time=v.created_ms // 1000,
    )


@router.get("/profile", responses=_401)
async def get_profile(c: Deps, session: CurrentSession) -> ProfilePublic:
    """The logged-in user's profile."""
    return _profile(await c.profiles.get(session.user_key))


@router.put("/profile", responses=_401 | _409)
async def put_profile(c: Deps, session: CurrentSession, body: ProfileUpdate) -> ProfilePublic:
    """Replace display name, avatar URL and bio (the videos are not touched)."""
    try:
        p = await c.profiles.edit(
            session.user_key,
            display_name=body.display_name,
            avatar_url=body.avatar_url,
            bio=body.bio,
        )
    except ProfileInvalid as exc:
        raise _invalid(exc, where="body") from exc
    except ProfileBusy as exc:
        raise _busy(exc) from exc
    return _profile(p)


@router.get("/videos", responses=_401)
async def list_videos(
    c: Deps,
    session: CurrentSession,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR)] = None,
    max_count: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> VideoPagePublic:
    """A page of the user's videos, newest first."""
    try:
        found = await c.profiles.page(session.user_key, cursor=cursor, max_count=max_count)
    except ProfileInvalid as exc:
        raise _invalid(exc, where="query") from exc
    return VideoPagePublic(
        videos=[video_public(v) for v in found.page.videos],
        cursor=found.page.cursor,
        has_more=found.page.has_more,
    )


@router.post("/videos", status_code=status.HTTP_201_CREATED, responses=_401 | _409)
async def add_video(c: Deps, session: CurrentSession, body: VideoCreate) -> VideoPublic:
    """Add a public video to the user's list."""
    try:
        video = await c.profiles.add_video(
            session.user_key,
            title=body.title,
            cover_url=body.cover_image_url,
            duration_s=body.duration,
        )
    except ProfileInvalid as exc:
        raise _invalid(exc, where="body") from exc
    except (ProfileBusy, TooManyVideos) as exc:
        raise _busy(exc) from exc
    return video_public(video)


@router.delete(
    "/videos/{video_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_401 | _404 | _409,
)
async def delete_video(
    c: Deps,
    session: CurrentSession,
    video_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
) -> Response:
    """Remove one video from the user's list."""
    try:
        await c.profiles.remove_video(session.user_key, video_id)
    except VideoNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except ProfileBusy as exc:
        raise _busy(exc) from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)
