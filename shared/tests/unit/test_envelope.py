"""The envelope: CloudEvents 1.0 on the wire, typed payloads, clear causes for bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured
from cloudevents.core.formats.json import JSONFormat

from shared.events import ALL_TYPES, InvalidEvent, make_event, parse
from shared.events.consent import ConsentGranted, ConsentRevoked
from shared.events.envelope import CONTENT_TYPE, EventData
from shared.events.sound import SoundRejected

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

SAMPLE_VALUES: dict[str, Any] = {
    "app_id": "app_1",
    "user_key": "uk_0123456789abcdef",
    "consent_id": "c_1",
    "version": 1,
    "scopes": ("user.info.basic",),
    "allowed_scopes": ("user.info.basic",),
    "terms_version": "2026-01",
    "previous_terms_version": "2025-12",
    "new_terms_version": "2026-02",
    "retention_days": 30,
    "name": "An App",
    "redirect_uris": ("https://app.example/cb",),
    "terms_url": "https://app.example/terms",
    "changed": ("redirect_uris",),
    "client_type": "confidential",
    "hash_key_id": "k1",
    "session_id": "s_1",
    "token_id": "t_1",
    "pairwise_subject": "ps_1",
    "grant_type": "authorization_code",
    "expires_at": NOW,
    "reason": None,
    "request_id": "r_1",
    "deadline": NOW,
    "outcome": "confirmed",
    "upload_id": "up_1",
    "media_type": "audio/wav",
    "declared_size": 10,
    "sound_id": "snd_1",
    "duration_ms": 3000,
    "size_bytes": 10,
    "sha256": "0" * 64,
    "reason_code": "too_short",
    "transfer_id": "tr_1",
    "consent_version": 1,
    "scopes_used": ("user.info.basic",),
    "fields_released": ("display_name",),
    "purpose": "login",
    "released_at": NOW,
    "digest_sha256": "a" * 64,
    "origin": "audit-1",
    "checkpoint_id": "cp_1",
    "signed_at": NOW,
    "shards": (),
    "key_id": "0123456789abcdef",
    "signature": "c2ln",
    "transfer_time": NOW,
    "covered": True,
    "correction": 1,
}


def sample(event_type: type[EventData]) -> EventData:
    """A valid instance of any payload type, from the sample values."""
    fields = {
        name: SAMPLE_VALUES[name]
        for name, info in event_type.model_fields.items()
        if info.is_required() and SAMPLE_VALUES.get(name) is not None
    }
    if "reason" in event_type.model_fields and event_type.model_fields["reason"].is_required():
        fields["reason"] = "no_consent" if event_type.TOPIC == "audit.events" else "app"
        if event_type is SoundRejected:
            fields["reason"] = "the clip is shorter than a second"
    return event_type(**fields)


@pytest.mark.parametrize("event_type", ALL_TYPES, ids=lambda t: t.TYPE)
def test_every_type_round_trips_and_reads_with_the_cloudevents_sdk(
    event_type: type[EventData],
) -> None:
    event = make_event(sample(event_type), source="/test")
    raw = event.to_bytes()

    assert parse(raw) == event
    sdk_event = JSONFormat().read(None, raw)
    assert sdk_event.get_type() == event_type.TYPE
    assert sdk_event.get_id() == event.id
    assert sdk_event.get_subject() == event.subject
    assert sdk_event.get_specversion() == "1.0"
    message = KafkaMessage(
        headers={"content-type": CONTENT_TYPE.encode()}, key=event.key(), value=raw
    )
    assert from_structured(message, JSONFormat()).get_id() == event.id


def test_unknown_fields_are_ignored_on_envelope_and_payload() -> None:
    event = make_event(sample(ConsentRevoked), source="/consent")
    obj = json.loads(event.to_bytes())
    obj["extension"] = "x"
    obj["data"]["added_in_a_later_minor"] = 1
    assert parse(json.dumps(obj).encode()) == event


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"type": "consent.exploded.v1"}', "unknown event type"),
        (b'{"specversion": "1.0", "type": "consent.revoked.v1"}', "invalid consent.revoked.v1"),
    ],
)
def test_bad_bytes_raise_invalid_event_with_the_cause(raw: bytes, cause: str) -> None:
    with pytest.raises(InvalidEvent, match=cause):
        parse(raw)


def test_a_phone_number_is_refused_as_a_subject_or_key() -> None:
    with pytest.raises(ValueError, match="should match pattern"):
        ConsentGranted(**{**_granted_fields(), "user_key": "+4915112345678"})
    with pytest.raises(ValueError, match="phone number"):
        ConsentGranted(**{**_granted_fields(), "user_key": "4915112345678"})


def test_subject_must_match_the_payload() -> None:
    obj = json.loads(make_event(sample(ConsentRevoked), source="/c").to_bytes())
    obj["subject"] = "someone_else"
    with pytest.raises(InvalidEvent, match="subject does not match"):
        parse(json.dumps(obj).encode())


def test_event_ids_are_unique_and_time_ordered() -> None:
    ids = [make_event(sample(ConsentRevoked), source="/c").id for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert ids == sorted(ids)


def _granted_fields() -> dict[str, Any]:
    return sample(ConsentGranted).model_dump()
