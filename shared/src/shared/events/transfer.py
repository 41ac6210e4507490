"""The transfer record, published by auth and sound on `transfer.events` before data leaves."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.events.common import Identifier, Scopes, Sha256Hex, TermsVersion, Timestamp
from shared.events.envelope import EventData
from shared.topics import TRANSFER_EVENTS


class TransferRecorded(EventData):
    """User data is about to be released to a third party; this is durable before it is."""

    TYPE: ClassVar[str] = "transfer.recorded.v1"
    TOPIC: ClassVar[str] = TRANSFER_EVENTS
    transfer_id: Identifier
    app_id: Identifier
    pairwise_subject: Identifier
    user_key: Identifier
    consent_id: Identifier
    consent_version: int = Field(ge=1)
    terms_version: TermsVersion
    scopes_used: Scopes
    fields_released: tuple[str, ...]
    purpose: str = Field(min_length=1, max_length=200)
    request_id: Identifier
    released_at: Timestamp
    digest_sha256: Sha256Hex

    def subject(self) -> str:
        return self.user_key
