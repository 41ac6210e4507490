"""What the consent screen needs: the consent records, the apps as auth described them, the
challenges already answered, and the signatures (core and fakes fit these)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from consent.domain.handover import Challenge, Decision


@dataclass(frozen=True, slots=True)
class AppView:
    """An app as its latest registration or terms event declared it."""

    app_id: str
    name: str
    allowed_scopes: tuple[str, ...]
    terms_version: str
    terms_url: str
    privacy_policy_url: str
    recipients: tuple[str, ...]
    retention_days: int


@dataclass(frozen=True, slots=True)
class Granted:
    """The consent version an allow recorded."""

    consent_id: str
    version: int
    terms_version: str
    granted_at: float
    receipt: str  # signed from the record (`service/receipts.py`), as the user's view serves it


class AppDirectory(Protocol):
    """The apps consent knows from `auth.events` (a read model)."""

    async def app(self, app_id: str) -> AppView | None:
        """The app's latest declared state, if consent has seen it."""


class GrantRecorder(Protocol):
    """Records a grant (a new consent or a new version of the user's consent for the app)."""

    async def grant(self, *, challenge: Challenge, app: AppView) -> Granted:
        """Record and publish durably (PublishFailed: nothing recorded for the caller)."""


class AnsweredChallenges(Protocol):
    """Challenges already answered, by id: a unique insert makes each answerable once."""

    async def claim(self, challenge_id: str, *, expires_at: float) -> bool:
        """True for the first answer only."""

    async def answered(self, challenge_id: str) -> bool:
        """Whether the challenge was already answered."""


class ChallengeSource(Protocol):
    """Reads and verifies auth's challenge."""

    async def read(self, token: str) -> Challenge:
        """The verified challenge, or HandoverRefused."""


class Signer(Protocol):
    """Consent's signatures."""

    @property
    def issuer(self) -> str:
        """Consent's `iss`."""

    def verdict(self, decision: Decision, *, audience: str, now: float | None = None) -> str:
        """The signed verdict."""

    def receipt(self, document: dict[str, object]) -> str:
        """The signed receipt."""
