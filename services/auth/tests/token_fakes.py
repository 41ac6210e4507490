"""A fake of the TransferRecorder port for the token side's tests (never for the broker)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from auth.domain.grants import ConsentAnswer, Grant
from auth.service.oauth_ports import TransferNotRecorded


@dataclass(frozen=True)
class Recorded:
    """One transfer the fake acknowledged."""

    grant: Grant
    consent: ConsentAnswer
    scopes_used: tuple[str, ...]
    fields_released: tuple[str, ...]
    digest: str
    request_id: str


class FakeTransferRecorder:
    """Keeps every record in memory; `fail = True` makes it refuse like a broker outage."""

    def __init__(self) -> None:
        self.records: list[Recorded] = []
        self.fail = False

    async def record(
        self,
        *,
        grant: Grant,
        consent: ConsentAnswer,
        scopes_used: tuple[str, ...],
        fields_released: tuple[str, ...],
        body: bytes,
        request_id: str,
    ) -> None:
        """Acknowledge (remember) the record, or raise TransferNotRecorded when failing."""
        if self.fail:
            raise TransferNotRecorded("the fake recorder is failing")
        digest = hashlib.sha256(body).hexdigest()
        self.records.append(
            Recorded(grant, consent, scopes_used, fields_released, digest, request_id)
        )
