"""What the upload use cases need from the world (adapters implement these)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol


class Unavailable(RuntimeError):
    """A dependency (auth, consent, the database, the broker) cannot answer now: a 503."""


@dataclass(frozen=True)
class Grant:
    """A live access token's grant, as auth's resolve tells it."""

    token_id: str
    client_id: str
    user_key: str
    scopes: tuple[str, ...]
    consent_id: str
    pairwise_subject: str = ""
    consent_version: int = 1
    terms_version: str = "unknown"
    purpose: str = "sound kit"


class TokenResolver(Protocol):
    async def resolve(self, token: str) -> Grant | str:
        """The grant, or the reason the token is not active; Unavailable when unsure."""
        ...


class ConsentCheck(Protocol):
    async def check(
        self, *, user_key: str, app_id: str, scopes: tuple[str, ...]
    ) -> tuple[bool, str, str | None]:
        """(allowed, reason, consent id); Unavailable when unsure."""
        ...


@dataclass(frozen=True)
class AudioLimits:
    max_duration_s: int
    min_sample_rate: int
    max_sample_rate: int
    max_channels: int


@dataclass(frozen=True)
class AudioFacts:
    format: str
    sample_rate: int
    channels: int
    frames: int
    duration_ms: int


class AudioRejected(Exception):
    """The audio is refused; `code` (a-z and _) and `reason` go to the app and the event."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class AudioValidator(Protocol):
    async def validate(self, path: str, *, declared: str) -> AudioFacts: ...


class Body(Protocol):
    def __aiter__(self) -> AsyncIterator[bytes]: ...


Doc = dict[str, Any]
