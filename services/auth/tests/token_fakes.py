"""Fakes of the TransferRecorder and ConsentCheck ports for the token tests (never the broker)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from oauth_fakes import FakeConsentCheck

from auth.domain.grants import ConsentAnswer, ConsentUnavailable, Grant
from auth.service.oauth_ports import TransferNotRecorded


class FlakyConsentCheck(FakeConsentCheck):
    """FakeConsentCheck that can also be away: `unavailable = True` raises ConsentUnavailable."""

    def __init__(self) -> None:
        super().__init__()
        self.unavailable = False

    async def check(self, *, user_key: str, app_id: str, scopes: tuple[str, ...]) -> ConsentAnswer:
        """The set answer, or ConsentUnavailable while `unavailable`."""
        if self.unavailable:
            raise ConsentUnavailable("the fake consent service is away")
        return await super().check(user_key=user_key, app_id=app_id, scopes=scopes)


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
