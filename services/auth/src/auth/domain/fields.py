"""The Login Kit's fields, the scopes that cover each, and the `fields` list rules.

A field the token's scopes do not cover is refused, never silently dropped: the app learns at
once that it asked for more than the user allowed. There is deliberately no `union_id`: no
identifier is shared across a developer's apps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

Catalogue = Mapping[str, tuple[str, ...]]
BASIC, PROFILE, STATS, VIDEOS = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
)
OPENID = "openid"

# Each field, with the scopes that cover it (the consent screen's words: `user.info.profile`
# shows "display name, avatar and bio", so it covers those two basic fields as well).
USER_INFO_FIELDS: Catalogue = {
    "open_id": (BASIC,),
    "display_name": (BASIC, PROFILE),
    "avatar_url": (BASIC, PROFILE),
    "bio_description": (PROFILE,),
    "profile_deep_link": (PROFILE,),
    "video_count": (STATS,),
}
VIDEO_FIELDS: Catalogue = {
    name: (VIDEOS,) for name in ("id", "title", "cover_image_url", "duration", "create_time")
}
# OIDC UserInfo: the standard claims released as far as the scopes allow (`sub` needs `openid`).
USERINFO_CLAIMS: Catalogue = {
    "sub": (OPENID,),
    "name": (BASIC, PROFILE),
    "picture": (BASIC, PROFILE),
    "profile": (PROFILE,),
}

MAX_FIELDS_CHARS = 1000
MAX_PAGE, DEFAULT_PAGE = 20, 10
_PAGE_KEYS = frozenset({"cursor", "max_count"})
MAX_FIELDS = 20
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class FieldsInvalid(ValueError):
    """The `fields` list (or another parameter) is malformed; the message says which rule."""


class FieldNotAuthorized(PermissionError):
    """A requested field needs a scope the token does not carry."""

    def __init__(self, field: str, needs: tuple[str, ...]) -> None:
        super().__init__(f"the field {field} needs the scope {' or '.join(needs)}")
        self.field = field
        self.needs = needs


def parse_fields(raw: str | None, *, catalogue: Catalogue) -> tuple[str, ...]:
    """The requested field names, in order; FieldsInvalid for an empty, overlong, repeated or
    unknown one (an unknown name is echoed only when it is a plain field-like word)."""
    if raw is None or not raw.strip():
        raise FieldsInvalid(f"fields is required: a comma separated list of {_known(catalogue)}")
    if len(raw) > MAX_FIELDS_CHARS:
        raise FieldsInvalid(f"fields is longer than {MAX_FIELDS_CHARS} characters")
    names = [part.strip() for part in raw.split(",")]
    if len(names) > MAX_FIELDS:
        raise FieldsInvalid(f"fields names more than {MAX_FIELDS} fields")
    seen: set[str] = set()
    for name in names:
        if not name:
            raise FieldsInvalid("fields has an empty name (two commas in a row, or a trailing one)")
        if name not in catalogue:
            shown = f"the field {name}" if _NAME.fullmatch(name) else "a field name"
            raise FieldsInvalid(f"{shown} is not one of {_known(catalogue)}")
        if name in seen:
            raise FieldsInvalid(f"the field {name} is named twice")
        seen.add(name)
    return tuple(names)


def scopes_used(
    fields: Iterable[str], *, granted: Iterable[str], catalogue: Catalogue
) -> tuple[str, ...]:
    """The granted scopes the fields are released under (sorted); FieldNotAuthorized for the
    first field none of the granted scopes covers."""
    have = set(granted)
    used: set[str] = set()
    for field in fields:
        needs = catalogue[field]
        covering = next((scope for scope in needs if scope in have), None)
        if covering is None:
            raise FieldNotAuthorized(field, needs)
        used.add(covering)
    return tuple(sorted(used))


def allowed_fields(*, granted: Iterable[str], catalogue: Catalogue) -> tuple[str, ...]:
    """Every field of the catalogue the granted scopes cover, in catalogue order."""
    have = set(granted)
    return tuple(name for name, needs in catalogue.items() if have.intersection(needs))


def parse_video_request(body: bytes) -> tuple[str | None, int]:
    """`(cursor, max_count)` from the video list's JSON body (empty: the first 10); FieldsInvalid
    for anything but an object with an optional string `cursor` and an integer 1..20."""
    try:
        value = json.loads(body) if body.strip() else {}
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise FieldsInvalid("the body is not JSON") from exc
    if not isinstance(value, dict):
        raise FieldsInvalid('the body must be a JSON object: {"cursor": ..., "max_count": ...}')
    unknown = sorted(key for key in value if key not in _PAGE_KEYS)
    if unknown:
        shown = unknown[0] if _NAME.fullmatch(unknown[0]) else "a key"
        raise FieldsInvalid(f"the body has {shown}, which is not cursor or max_count")
    cursor, max_count = value.get("cursor"), value.get("max_count", DEFAULT_PAGE)
    if cursor is not None and not isinstance(cursor, str):
        raise FieldsInvalid("cursor must be a string this service returned, or null")
    if isinstance(max_count, bool) or not isinstance(max_count, int):
        raise FieldsInvalid(f"max_count must be an integer from 1 to {MAX_PAGE}")
    if not 1 <= max_count <= MAX_PAGE:
        raise FieldsInvalid(f"max_count must be from 1 to {MAX_PAGE}")
    return (cursor or None, max_count)


def envelope(data: Mapping[str, Any], *, log_id: str, code: str = "ok", message: str = "") -> bytes:
    """The Login Kit v2 body: `{"data": ..., "error": {"code", "message", "log_id"}}`, as the
    exact bytes that are hashed, recorded and sent."""
    body = {"data": data, "error": {"code": code, "message": message, "log_id": log_id}}
    return compact_json(body)


def compact_json(value: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON (one serialisation, so the digest and the body agree)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _known(catalogue: Catalogue) -> str:
    return ", ".join(catalogue)
