"""Every wire type, by its CloudEvents `type`; the one list consumers and the schemas use."""

from __future__ import annotations

from typing import Any

from shared.events import audit, auth, consent, sound, transfer
from shared.events.envelope import CloudEvent, EventData, parse_event

ALL_TYPES: tuple[type[EventData], ...] = (
    auth.AppRegistered,
    auth.AppTermsUpdated,
    auth.AppUpdated,
    auth.UserSignedUp,
    auth.UserLoggedIn,
    auth.UserDeleted,
    auth.TokenIssued,
    auth.TokenRevoked,
    consent.ConsentGranted,
    consent.ConsentRevoked,
    consent.ConsentInvalidated,
    consent.ConsentRenewed,
    consent.DeletionRequested,
    consent.DeletionOutcomeRecorded,
    sound.SoundUploadStarted,
    sound.SoundIngested,
    sound.SoundRejected,
    transfer.TransferRecorded,
    audit.CheckpointSigned,
    audit.ViolationDetected,
    audit.VerdictCorrected,
)

REGISTRY: dict[str, type[EventData]] = {t.TYPE: t for t in ALL_TYPES}


def parse(raw: bytes) -> CloudEvent[Any]:
    """Parse wire bytes of any known type (raises InvalidEvent otherwise)."""
    return parse_event(raw, registry=REGISTRY)
