"""Events published by the sound service (Sound Kit) on `sound.events` (key: the user key)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.events.common import Identifier, Sha256Hex
from shared.events.envelope import EventData
from shared.topics import SOUND_EVENTS


class _SoundEvent(EventData):
    TOPIC: ClassVar[str] = SOUND_EVENTS
    user_key: Identifier
    app_id: Identifier
    upload_id: Identifier

    def subject(self) -> str:
        return self.user_key


class SoundUploadStarted(_SoundEvent):
    """An app opened an upload session for a user, under a consent."""

    TYPE: ClassVar[str] = "sound.upload_started.v1"
    consent_id: Identifier
    media_type: str = Field(max_length=100)
    declared_size: int = Field(ge=0)


class SoundIngested(_SoundEvent):
    """An upload was validated and stored as a sound."""

    TYPE: ClassVar[str] = "sound.ingested.v1"
    sound_id: Identifier
    media_type: str = Field(max_length=100)
    duration_ms: int = Field(ge=0)
    size_bytes: int = Field(ge=0)
    sha256: Sha256Hex


class SoundRejected(_SoundEvent):
    """An upload was refused; the reason says why."""

    TYPE: ClassVar[str] = "sound.rejected.v1"
    reason_code: str = Field(pattern=r"^[a-z_]{1,64}$")
    reason: str = Field(max_length=500)
