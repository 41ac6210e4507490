"""Ports the OAuth server's use cases depend on (adapters implement them in `adapters/`)."""

from __future__ import annotations

from typing import Protocol

from auth.domain.grants import AccessGrant, ConsentAnswer, Grant


class ConsentCheck(Protocol):
    """The consent service's check, the authority on "may this flow now" (fail closed)."""

    async def check(self, *, user_key: str, app_id: str, scopes: tuple[str, ...]) -> ConsentAnswer:
        """Whether an active consent covers `scopes` now; ConsentUnavailable when unsure."""
        ...


class AuthorizationCodes(Protocol):
    """Issues the single-use authorization codes the token endpoint redeems."""

    async def issue(self, *, grant: Grant, redirect_uri: str, code_challenge: str) -> str:
        """A new code (at most 60 s) bound to the client, the redirect URI and the S256
        challenge; the code itself is returned once and stored only as a hash."""
        ...


class AccessTokens(Protocol):
    """Verifies the access tokens the token endpoint minted (RFC 9068 JWTs)."""

    async def verify(self, token: str, *, audience: str) -> AccessGrant:
        """The live grant behind `token`, or InvalidAccessToken (also for a revoked family)."""
        ...


class TransferNotRecorded(RuntimeError):
    """The transfer record was not acknowledged in time: answer 503 and release nothing."""


class TransferRecorder(Protocol):
    """Writes `transfer.recorded.v1` durably before user data leaves (DESIGN "The transfer
    record")."""

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
        """Returns once the record of `body` (its SHA-256) is acknowledged; TransferNotRecorded
        otherwise. `consent` is the check's answer that allowed this release."""
        ...
