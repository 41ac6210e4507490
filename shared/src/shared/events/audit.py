"""Events published by the audit service on `audit.events`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.common import Identifier, Timestamp
from shared.events.envelope import EventData
from shared.topics import AUDIT_EVENTS

Reason = Literal["no_consent", "revoked", "invalidated", "scope_not_granted", "terms_mismatch"]


class ShardHead(BaseModel):
    """One shard's tree at checkpoint time."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    shard: str = Field(min_length=1, max_length=200)
    size: int = Field(ge=0)
    root: str = Field(description="base64 of the RFC 6962 tree root")


class CheckpointSigned(EventData):
    """The audit log signed a checkpoint over every shard's tree size and root."""

    TYPE: ClassVar[str] = "audit.checkpoint_signed.v1"
    TOPIC: ClassVar[str] = AUDIT_EVENTS
    origin: Identifier
    checkpoint_id: Identifier
    signed_at: Timestamp
    shards: tuple[ShardHead, ...]
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    signature: str = Field(description="base64 Ed25519 signature over the checkpoint note")

    def subject(self) -> str:
        return self.origin


class ViolationDetected(EventData):
    """A transfer was not covered by an active consent at its own time."""

    TYPE: ClassVar[str] = "audit.violation_detected.v1"
    TOPIC: ClassVar[str] = AUDIT_EVENTS
    transfer_id: Identifier
    user_key: Identifier
    app_id: Identifier
    consent_id: Identifier | None = None
    reason: Reason
    transfer_time: Timestamp

    def subject(self) -> str:
        return self.user_key


class VerdictCorrected(EventData):
    """A transfer's verdict changed because a consent or terms event arrived late.

    `covered` and `reason` are the new verdict, `previous_reason` the one it replaces (None:
    it was covered); `correction` counts the changes of this transfer's verdict (1 = first).
    """

    TYPE: ClassVar[str] = "audit.verdict_corrected.v1"
    TOPIC: ClassVar[str] = AUDIT_EVENTS
    transfer_id: Identifier
    user_key: Identifier
    app_id: Identifier
    consent_id: Identifier | None = None
    covered: bool
    reason: Reason | None = None
    previous_reason: Reason | None = None
    correction: int = Field(ge=1)
    transfer_time: Timestamp

    def subject(self) -> str:
        return self.user_key
