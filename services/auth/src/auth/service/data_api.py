"""The Login Kit data API: user info, the video list and OIDC UserInfo, each on the record first.

Every request: the access token is verified, the requested fields are checked against the
token's scopes, the consent service is asked (the authority, fail closed) while the profile is
read, the body bytes are built once, the transfer record of exactly those bytes is acknowledged
by the broker, and only then are the bytes handed back to be sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from auth.domain import fields as rules
from auth.domain.grants import AccessGrant, ConsentAnswer, ConsentUnavailable, InvalidAccessToken
from auth.domain.profile import ProfileInvalid, Video
from auth.domain.video_page import decode_cursor
from auth.service.oauth_ports import (
    AccessTokens,
    ConsentCheck,
    TransferNotRecorded,
    TransferRecorder,
)
from auth.service.profiles import ProfilePage

AUDIENCE = "kits-login-kit"
Refusal = Literal[
    "access_token_invalid",
    "scope_not_authorized",
    "invalid_params",
    "consent_revoked",
    "service_unavailable",
]


class DataRefused(Exception):
    """The request gets no data; `kind` says why (the entry point picks status and shape)."""

    def __init__(self, kind: Refusal, message: str, *, needs: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.kind: Refusal = kind
        self.message = message
        self.needs = needs


class ProfileReader(Protocol):
    """The profile handlers' Login Kit read (`Profiles.page`)."""

    async def page(self, user_key: str, *, cursor: str | None, max_count: int) -> ProfilePage:
        """The profile and one page of its videos, newest first."""
        ...


@dataclass(frozen=True, slots=True)
class _Allowed:
    access: AccessGrant
    consent: ConsentAnswer
    page: ProfilePage
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class DataApi:
    """The data requests, with the ports they need (built once, in bootstrap)."""

    access_tokens: AccessTokens
    consent_check: ConsentCheck
    transfers: TransferRecorder
    profiles: ProfileReader
    issuer: str

    async def user_info(self, *, token: str, fields: str | None, log_id: str) -> bytes:
        """`GET /v2/user/info/`: the requested fields of the user, as envelope bytes."""
        access = await self._verify(token)
        names = _parsed(fields, rules.USER_INFO_FIELDS)
        scopes = _scopes(names, access, rules.USER_INFO_FIELDS)
        allowed = await self._allowed(access, scopes, cursor=None, max_count=1)
        user = {name: self._user_field(name, allowed) for name in names}
        body = rules.envelope({"user": user}, log_id=log_id)
        await self._record(allowed, fields=names, body=body, log_id=log_id)
        return body

    async def video_list(
        self, *, token: str, fields: str | None, body: bytes, log_id: str
    ) -> bytes:
        """`POST /v2/video/list/`: one page of the user's public videos, newest first."""
        access = await self._verify(token)
        names = _parsed(fields, rules.VIDEO_FIELDS)
        try:
            cursor, max_count = rules.parse_video_request(body)
            if cursor is not None:
                decode_cursor(cursor)  # a foreign cursor is a 400 before any read
        except (rules.FieldsInvalid, ProfileInvalid) as exc:
            raise DataRefused("invalid_params", str(exc)) from exc
        scopes = _scopes(names, access, rules.VIDEO_FIELDS)
        allowed = await self._allowed(access, scopes, cursor=cursor, max_count=max_count)
        page = allowed.page.page
        data = {
            "videos": [_video(v, names) for v in page.videos],
            "cursor": page.cursor,
            "has_more": page.has_more,
        }
        released = rules.envelope(data, log_id=log_id)
        await self._record(allowed, fields=names, body=released, log_id=log_id)
        return released

    async def userinfo(self, *, token: str, log_id: str) -> bytes:
        """OIDC UserInfo: `sub` and the standard claims the scopes allow, as plain JSON bytes."""
        access = await self._verify(token)
        granted = access.grant.scopes
        if rules.OPENID not in granted:
            raise DataRefused(
                "scope_not_authorized", "UserInfo needs the openid scope", needs=(rules.OPENID,)
            )
        claims = rules.allowed_fields(granted=granted, catalogue=rules.USERINFO_CLAIMS)
        scopes = _scopes(claims, access, rules.USERINFO_CLAIMS)
        allowed = await self._allowed(access, scopes, cursor=None, max_count=1)
        values = {name: self._claim(name, allowed) for name in claims}
        present = {name: value for name, value in values.items() if value}
        body = rules.compact_json(present)
        await self._record(allowed, fields=tuple(present), body=body, log_id=log_id)
        return body

    async def _verify(self, token: str) -> AccessGrant:
        if not token:
            raise DataRefused("access_token_invalid", "no access token: send Authorization: Bearer")
        try:
            return await self.access_tokens.verify(token, audience=AUDIENCE)
        except InvalidAccessToken as exc:
            raise DataRefused("access_token_invalid", exc.reason) from exc

    async def _allowed(
        self, access: AccessGrant, scopes: tuple[str, ...], *, cursor: str | None, max_count: int
    ) -> _Allowed:
        """The consent check, with the profile read overlapping it (nothing read is released
        unless the check allows)."""
        grant = access.grant
        reading = asyncio.ensure_future(
            self.profiles.page(grant.user_key, cursor=cursor, max_count=max_count)
        )
        try:
            answer = await self.consent_check.check(
                user_key=grant.user_key,
                app_id=grant.client_id,
                scopes=_consent_scopes(scopes, grant.scopes),
            )
            _check_answer(answer, consent_id=grant.consent_id)
        except ConsentUnavailable as exc:
            reading.cancel()
            raise DataRefused(
                "service_unavailable", "the consent service did not answer; try again"
            ) from exc
        except BaseException:
            reading.cancel()
            raise
        try:
            page = await reading
        except ProfileInvalid as exc:
            raise DataRefused("invalid_params", str(exc)) from exc
        return _Allowed(access=access, consent=answer, page=page, scopes=scopes)

    async def _record(
        self, allowed: _Allowed, *, fields: tuple[str, ...], body: bytes, log_id: str
    ) -> None:
        try:
            await self.transfers.record(
                grant=allowed.access.grant,
                consent=allowed.consent,
                scopes_used=allowed.scopes,
                fields_released=fields,
                body=body,
                request_id=log_id,
            )
        except TransferNotRecorded as exc:
            raise DataRefused(
                "service_unavailable", "the release could not be recorded; nothing was sent"
            ) from exc

    def _user_field(self, name: str, allowed: _Allowed) -> Any:
        profile, open_id = allowed.page.profile, allowed.access.grant.pairwise_subject
        return {
            "open_id": open_id,
            "display_name": profile.display_name,
            "avatar_url": profile.avatar_url,
            "bio_description": profile.bio,
            "profile_deep_link": self.profile_link(open_id),
            "video_count": allowed.page.video_count,
        }[name]

    def _claim(self, name: str, allowed: _Allowed) -> Any:
        profile, sub = allowed.page.profile, allowed.access.grant.pairwise_subject
        return {
            "sub": sub,
            "name": profile.display_name,
            "picture": profile.avatar_url,
            "profile": self.profile_link(sub),
        }[name]

    def profile_link(self, open_id: str) -> str:
        """The user's profile page as this app knows them (by its own id, never the user key)."""
        return f"{self.issuer.rstrip('/')}/u/{open_id}"


def _parsed(raw: str | None, catalogue: rules.Catalogue) -> tuple[str, ...]:
    try:
        return rules.parse_fields(raw, catalogue=catalogue)
    except rules.FieldsInvalid as exc:
        raise DataRefused("invalid_params", str(exc)) from exc


def _scopes(
    names: tuple[str, ...], access: AccessGrant, catalogue: rules.Catalogue
) -> tuple[str, ...]:
    try:
        return rules.scopes_used(names, granted=access.grant.scopes, catalogue=catalogue)
    except rules.FieldNotAuthorized as exc:
        raise DataRefused("scope_not_authorized", str(exc), needs=exc.needs) from exc


def _consent_scopes(used: tuple[str, ...], granted: tuple[str, ...]) -> tuple[str, ...]:
    """What the consent check is asked: the consented scopes used (`openid` is a protocol scope,
    not one a consent names); a release of `sub` alone asks about the token's other scopes."""
    return (
        tuple(s for s in used if s != rules.OPENID)
        or tuple(s for s in granted if s != rules.OPENID)
        or (rules.OPENID,)
    )


def _check_answer(answer: ConsentAnswer, *, consent_id: str) -> None:
    if answer.allowed and answer.consent_id not in (None, consent_id):
        # The user revoked and consented again: this token belongs to the ended consent.
        raise DataRefused("consent_revoked", "the consent this token was issued under has ended")
    if answer.allowed:
        return
    if answer.reason == "change_in_progress":
        raise DataRefused("service_unavailable", "the user's consent is being changed; try again")
    raise DataRefused(
        "consent_revoked", f"the user's consent does not allow this now ({answer.reason})"
    )


def _video(video: Video, names: tuple[str, ...]) -> dict[str, Any]:
    shown = {
        "id": video.video_id,
        "title": video.title,
        "cover_image_url": video.cover_url,
        "duration": video.duration_s,
        "create_time": video.created_ms // 1000,
    }
    return {name: shown[name] for name in names}
