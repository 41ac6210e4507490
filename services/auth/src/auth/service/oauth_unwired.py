"""Fail-closed stand-ins for the OAuth ports other parts of issue 17 implement (the consent
HTTP client, the transfer recorder): until the real adapter is wired, nothing is released."""

from __future__ import annotations

from auth.domain.grants import ConsentAnswer, ConsentUnavailable, Grant
from auth.service.oauth_ports import TransferNotRecorded


class UnwiredConsentCheck:
    """A ConsentCheck that can never tell: every use answers 503."""

    async def check(self, *, user_key: str, app_id: str, scopes: tuple[str, ...]) -> ConsentAnswer:
        """Always ConsentUnavailable."""
        del user_key, app_id, scopes
        raise ConsentUnavailable("no consent check is wired into this deployment")


class UnwiredTransfers:
    """A TransferRecorder that records nothing, so nothing may leave: every use answers 503."""

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
        """Always TransferNotRecorded."""
        del grant, consent, scopes_used, fields_released, body, request_id
        raise TransferNotRecorded("no transfer recorder is wired into this deployment")
