"""Settings, wiring and the published OpenAPI of the profile area (issue 15, items 1 and 8)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from auth.adapters.sms_dev import DevSmsSender
from auth.adapters.sms_twilio import TwilioSmsSender
from auth.bootstrap import build_sms_sender
from auth.main import create_app
from auth_testing import auth_settings
from kits_testing import Servers

NOWHERE = Servers(kafka="127.0.0.1:1", mongodb_url="mongodb://127.0.0.1:1/")
SID = "AC" + "f" * 32
TWILIO = {
    "sms_sender": "twilio",
    "twilio_account_sid": SID,
    "twilio_auth_token": "token",
    "twilio_from": "+15005550006",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = create_app(auth_settings(NOWHERE)).openapi()  # never connects
    return document


@pytest.mark.parametrize(
    ("method", "path", "codes"),
    [
        ("get", "/v1/me/profile", {"200", "401"}),
        ("put", "/v1/me/profile", {"200", "401", "409", "422"}),
        ("get", "/v1/me/videos", {"200", "401", "422"}),
        ("post", "/v1/me/videos", {"201", "401", "409", "422"}),
        ("delete", "/v1/me/videos/{video_id}", {"204", "401", "404", "409", "422"}),
    ],
)
def test_each_profile_route_documents_its_answers(
    spec: dict[str, Any], method: str, path: str, codes: set[str]
) -> None:
    responses = spec["paths"][path][method]["responses"]
    assert set(responses) == codes
    for code in codes & {"401", "404", "409"}:
        ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/Problem")


def test_the_development_sender_is_the_default() -> None:
    assert isinstance(build_sms_sender(auth_settings(NOWHERE)), DevSmsSender)


async def test_twilio_settings_build_the_twilio_sender() -> None:
    sender = build_sms_sender(auth_settings(NOWHERE, **TWILIO, twilio_timeout_s=2.5))
    assert isinstance(sender, TwilioSmsSender)
    await sender.aclose()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"twilio_account_sid": ""}, "account SID"),
        ({"twilio_account_sid": "AC123"}, "account SID"),
        ({"twilio_auth_token": ""}, "twilio_auth_token"),
        ({"twilio_from": ""}, "twilio_from"),
        ({"twilio_api_url": "http://api.twilio.com"}, "twilio_api_url"),
        ({"twilio_timeout_s": 0}, "greater than 0"),
        ({"twilio_max_attempts": 6}, "less than or equal to 5"),
    ],
)
def test_an_unusable_twilio_setup_is_refused_at_start(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        auth_settings(NOWHERE, **{**TWILIO, **change})
