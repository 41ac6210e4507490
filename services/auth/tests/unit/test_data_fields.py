"""The Login Kit's field and scope rules (`domain/fields.py`)."""

from __future__ import annotations

import json

import pytest

from auth.domain import fields as rules
from auth.domain.fields import (
    USER_INFO_FIELDS,
    USERINFO_CLAIMS,
    VIDEO_FIELDS,
    FieldNotAuthorized,
    FieldsInvalid,
    parse_fields,
    parse_video_request,
    scopes_used,
)


def test_fields_are_parsed_in_the_order_asked() -> None:
    names = parse_fields(" display_name,open_id ,video_count", catalogue=USER_INFO_FIELDS)
    assert names == ("display_name", "open_id", "video_count")


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (None, "fields is required"),
        ("", "fields is required"),
        ("  ", "fields is required"),
        ("open_id,,display_name", "empty name"),
        ("open_id,", "empty name"),
        ("open_id,open_id", "the field open_id is named twice"),
        ("open_id,union_id", "the field union_id is not one of open_id, display_name"),
        ("open_id,<script>", "a field name is not one of"),
        ("x" * 1001, "longer than 1000 characters"),
        (",".join(["open_id"] * 21), "more than 20 fields"),
    ],
)
def test_a_bad_fields_list_is_refused_with_its_rule(raw: str | None, says: str) -> None:
    with pytest.raises(FieldsInvalid, match=says):
        parse_fields(raw, catalogue=USER_INFO_FIELDS)


def test_there_is_no_union_id_anywhere() -> None:
    for catalogue in (USER_INFO_FIELDS, VIDEO_FIELDS, USERINFO_CLAIMS):
        assert "union_id" not in catalogue


def test_each_field_is_covered_only_by_its_scopes() -> None:
    basic = ("user.info.basic",)
    assert (
        scopes_used(("open_id", "avatar_url"), granted=basic, catalogue=USER_INFO_FIELDS) == basic
    )
    profile = ("user.info.profile",)
    assert scopes_used(
        ("display_name", "bio_description", "profile_deep_link"),
        granted=profile,
        catalogue=USER_INFO_FIELDS,
    ) == ("user.info.profile",)
    assert scopes_used(
        ("open_id", "video_count"),
        granted=("user.info.basic", "user.info.stats", "video.list"),
        catalogue=USER_INFO_FIELDS,
    ) == ("user.info.basic", "user.info.stats")


@pytest.mark.parametrize(
    ("field", "granted", "needs"),
    [
        ("video_count", ("user.info.basic", "user.info.profile"), ("user.info.stats",)),
        ("bio_description", ("user.info.basic",), ("user.info.profile",)),
        ("open_id", ("user.info.profile", "video.list"), ("user.info.basic",)),
    ],
)
def test_a_field_outside_the_granted_scopes_is_refused_by_name(
    field: str, granted: tuple[str, ...], needs: tuple[str, ...]
) -> None:
    with pytest.raises(FieldNotAuthorized) as refused:
        scopes_used(("avatar_url", field), granted=granted, catalogue=USER_INFO_FIELDS)
    assert refused.value.field == field
    assert refused.value.needs == needs
    assert field in str(refused.value)


def test_the_first_uncovered_field_is_the_one_named() -> None:
    with pytest.raises(FieldNotAuthorized) as refused:
        scopes_used(
            ("display_name", "open_id"), granted=("video.list",), catalogue=USER_INFO_FIELDS
        )
    assert refused.value.field == "display_name"
    assert refused.value.needs == ("user.info.basic", "user.info.profile")


def test_video_fields_need_video_list() -> None:
    with pytest.raises(FieldNotAuthorized, match=r"video\.list"):
        scopes_used(("id", "title"), granted=("user.info.basic",), catalogue=VIDEO_FIELDS)


def test_userinfo_claims_follow_the_scopes() -> None:
    allowed = rules.allowed_fields
    assert allowed(granted=("openid",), catalogue=USERINFO_CLAIMS) == ("sub",)
    assert allowed(granted=("openid", "user.info.basic"), catalogue=USERINFO_CLAIMS) == (
        "sub",
        "name",
        "picture",
    )
    assert allowed(granted=("openid", "user.info.profile"), catalogue=USERINFO_CLAIMS) == (
        "sub",
        "name",
        "picture",
        "profile",
    )


def test_the_video_request_body_defaults_and_bounds() -> None:
    assert parse_video_request(b"") == (None, 10)
    assert parse_video_request(b"{}") == (None, 10)
    assert parse_video_request(b'{"cursor": null, "max_count": 20}') == (None, 20)
    assert parse_video_request(b'{"cursor": "abc", "max_count": 1}') == ("abc", 1)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[" * 100_000, "not JSON"),
        (b"[]", "must be a JSON object"),
        (b'"x"', "must be a JSON object"),
        (b'{"max_count": 0}', "from 1 to 20"),
        (b'{"max_count": 21}', "from 1 to 20"),
        (b'{"max_count": "5"}', "must be an integer"),
        (b'{"max_count": true}', "must be an integer"),
        (b'{"max_count": 2.5}', "must be an integer"),
        (b'{"cursor": 1700000000000}', "cursor must be a string"),
        (b'{"cursor": "a", "page": 2}', "the body has page"),
        (b'{"<x>": 2}', "the body has a key"),
    ],
)
def test_a_bad_video_request_body_is_refused_with_its_rule(body: bytes, says: str) -> None:
    with pytest.raises(FieldsInvalid, match=says):
        parse_video_request(body)


def test_the_envelope_is_compact_json_with_the_log_id() -> None:
    body = rules.envelope({"user": {"display_name": "Zoë"}}, log_id="L1")
    expected = '{"data":{"user":{"display_name":"Zoë"}},"error":{"code":"ok","message":"",'
    assert body == (expected + '"log_id":"L1"}}').encode()
    refused = json.loads(rules.envelope({}, log_id="L2", code="invalid_params", message="m"))
    assert refused["error"] == {"code": "invalid_params", "message": "m", "log_id": "L2"}
