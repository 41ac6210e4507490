"""One definition of phone-shaped, fed through every path: log line, subject, event id, dead letter.

Test ids name the form, never the number, so a failure prints no phone-shaped text of its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import sys
import uuid
from typing import Any

import pytest
import uuid_utils
from pydantic import ValidationError

from shared.events import InvalidEvent, make_event, parse
from shared.events.consent import ConsentGranted
from shared.kafka.dead_letters import redact_error
from shared.logging import JsonFormatter
from shared.phone import REDACTED, looks_like_phone, redact_phones

PHONES = {
    "e164": "+4915112345678",
    "intl-spaced": "+49 151 1234 5678",
    "intl-dotted": "+49.151.1234.5678",
    "intl-us-parens": "+1 (555) 123-4567",
    "intl-uk-trunk": "+44 (0) 20 7946 0958",
    "national": "015112345678",
    "national-spaced": "0151 1234 5678",
    "national-parens": "(0151) 1234 5678",
    "national-00-prefix": "0049 151 12345678",
    "nanp-parens": "(555) 123-4567",
    "nanp-hyphens": "555-123-4567",
    "nanp-dots": "555.123.4567",
    "nanp-with-1": "1-555-123-4567",
}
# Forms an Identifier's character set lets through, so the phone check itself must refuse them.
IDENTIFIER_SHAPED = {"national", "nanp-hyphens", "nanp-dots", "nanp-with-1"}

NOT_PHONES = {
    "uuid4": str(uuid.UUID("9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f")),
    "uuid7": "019ad4e5-f6a7-7b8c-9d0e-1f2a3b4c5d6e",
    "uuid-all-decimal": "01234567-0123-7123-8123-012345678901",
    "iso-timestamp-micro": "2026-12-02T00:53:54.012345+00:00",
    "iso-timestamp-z": "2026-12-02T00:53:54Z",
    "iso-date": "2026-12-02",
    "log-timestamp": "2026-12-02 00:53:54,123",
    "ipv4-port": "127.0.0.1:19092",
    "ipv4-port-long": "192.168.100.200:27018",
    "offset": "offset 1234567",
    "offsets-and-partitions": "partition=0 offset=0 lag 1001 on 18 partitions",
    "epoch-ms": "at 1764636834123",
    "sha256": hashlib.sha256(b"x").hexdigest(),
    "sha256-leading-digits": "0" + "1" * 20 + "ab" * 21,
    "base64": base64.b64encode(bytes(range(200, 245))).decode(),
    "base64-plus-digits": "QUJD+4915112345678/Zm9v==",
    "topic-partition": "consent.events/3",
    "dlq-partition": "audit.ledger.dlq/0",
    "seconds": "took 0.012345 s",
    "tz-offset": "+00:00",
    "small-numbers": "ids 1 2 3 4 5 6 7 8",
    "hex-id-all-decimal": "0123456789012345",
}


def _log_line(text: str) -> str:
    try:
        raise ValueError(f"failed for {text}")
    except ValueError:
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "to %s", (text,), exc_info=sys.exc_info()
        )
    record.detail = f"number {text} here"
    return JsonFormatter().format(record)


@pytest.mark.parametrize("form", sorted(PHONES))
def test_the_log_guard_masks_every_form(form: str) -> None:
    phone = PHONES[form]
    line = _log_line(phone)
    assert phone not in line
    logged = json.loads(line)
    assert logged["message"] == f"to {REDACTED}"
    assert logged["detail"] == f"number {REDACTED} here"
    assert f"failed for {REDACTED}" in logged["exc"]


@pytest.mark.parametrize("form", sorted(PHONES))
@pytest.mark.parametrize("template", ["{}", "sent to {}, ok", "phone={}", "'{}'", "[{}]."])
def test_redact_phones_masks_every_form_in_context(form: str, template: str) -> None:
    assert redact_phones(template.format(PHONES[form])) == template.format(REDACTED)


@pytest.mark.parametrize("form", sorted(NOT_PHONES))
def test_what_is_not_a_phone_passes_the_log_guard_untouched(form: str) -> None:
    text = NOT_PHONES[form]
    assert redact_phones(text) == text
    assert json.loads(_log_line(text))["message"] == f"to {text}"


def _granted(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "user_key": "uk_0123456789abcdef",
        "app_id": "app_1",
        "consent_id": "c_1",
        "version": 1,
        "scopes": ("user.info.basic",),
        "terms_version": "2026-01",
        "recipients": (),
        "retention_days": 30,
    }
    return {**{k: v for k, v in fields.items() if k in ConsentGranted.model_fields}, **changes}


def _wire(**envelope: Any) -> bytes:
    obj = json.loads(make_event(ConsentGranted(**_granted()), source="/consent").to_bytes())
    obj.update(envelope)
    return json.dumps(obj).encode()


@pytest.mark.parametrize("form", sorted(PHONES))
def test_a_phone_is_refused_as_a_subject(form: str) -> None:
    phone = PHONES[form]
    with pytest.raises(ValidationError) as refused:
        ConsentGranted(**_granted(user_key=phone))
    if form in IDENTIFIER_SHAPED:
        assert "looks like a phone number" in str(refused.value)
    with pytest.raises(InvalidEvent, match="subject"):
        parse(_wire(subject=phone))


@pytest.mark.parametrize("form", sorted(PHONES))
def test_a_phone_is_refused_as_an_event_id(form: str) -> None:
    phone = PHONES[form]
    with pytest.raises(
        InvalidEvent, match=r"^invalid consent\.granted\.v1: id: Value error, looks"
    ):
        parse(_wire(id=phone))
    with pytest.raises(ValidationError, match="event ids are UUIDv7s"):
        make_event(ConsentGranted(**_granted()), source="/consent", event_id=phone)


def test_event_ids_and_keys_as_the_system_makes_them_pass() -> None:
    for _ in range(2000):
        assert not looks_like_phone(str(uuid_utils.uuid7()))
        assert not looks_like_phone(str(uuid.uuid4()))
        assert not looks_like_phone(f"uk_{uuid.uuid4().hex[:16]}")
    for form in (
        "uuid4",
        "uuid7",
        "uuid-all-decimal",
        "iso-date",
        "topic-partition",
        "hex-id-all-decimal",
    ):
        assert not looks_like_phone(NOT_PHONES[form]), form
    event = parse(_wire(id=NOT_PHONES["uuid-all-decimal"]))
    assert event.id == NOT_PHONES["uuid-all-decimal"]


def test_a_whole_value_of_bare_digits_is_an_international_number_without_its_plus() -> None:
    assert looks_like_phone("4915112345678")
    assert redact_phones("input_value='4915112345678'") == f"input_value='{REDACTED}'"
    assert not looks_like_phone("123456")  # too short for any number
    assert not looks_like_phone("1234567890123456789")  # longer than E.164 allows
    assert redact_phones("offset 4915112345678") == "offset 4915112345678"  # unquoted: a number


@pytest.mark.parametrize("form", sorted(PHONES))
def test_dead_letter_error_text_is_redacted(form: str) -> None:
    # The text a dead letter carries: the cause of a refused record, pydantic's included.
    phone = PHONES[form]
    with pytest.raises(ValidationError) as pydantic_error:
        ConsentGranted(**_granted(user_key=phone, retention_days=f"for {phone}"))
    with pytest.raises(InvalidEvent) as invalid:
        parse(_wire(id=phone, subject=phone, data={"user_key": phone}))
    for text in (str(pydantic_error.value), str(invalid.value), repr(pydantic_error.value)):
        redacted = redact_phones(text)
        assert phone not in redacted
        assert REDACTED in redacted or phone not in text
        assert phone not in redact_error(text)  # what the dead-letter writer keeps
    assert redact_error(f"handler refused the record for {phone}") == (
        f"handler refused the record for {REDACTED}"
    )
