"""HTTP shapes of the consent service (requests `…Create`/`…Request`, answers `…Public`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from consent.domain.model import Consent, Verdict
from shared.events.common import Scope
from shared.events.envelope import Identifier


class CheckRequest(BaseModel):
    """Does an active consent cover these scopes for this user and app, now?"""

    model_config = ConfigDict(extra="forbid")

    user_key: Identifier
    app_id: Identifier
    scopes: Annotated[tuple[Scope, ...], Field(min_length=1, max_length=50)]


class CheckPublic(BaseModel):
    """The answer: allowed, under which consent version and terms (or why not)."""

    allowed: bool
    reason: str = Field(
        description="covered, or: no_consent, revoked, invalidated, terms_changed, "
        "scope_not_granted, unknown_app, change_in_progress"
    )
    consent_id: str | None
    version: int | None
    terms_version: str | None

    @classmethod
    def of(cls, verdict: Verdict) -> CheckPublic:
        return cls(
            allowed=verdict.allowed,
            reason=verdict.reason,
            consent_id=verdict.consent_id,
            version=verdict.version,
            terms_version=verdict.terms_version,
        )


class VersionPublic(BaseModel):
    """One version of a consent, as its history shows it."""

    version: int
    change: str
    status: str
    scopes: list[str]
    terms_version: str
    recipients: list[str]
    retention_days: int
    changed_at: datetime
    reason: str

    @classmethod
    def of(cls, c: Consent) -> VersionPublic:
        return cls(
            version=c.version,
            change=c.change,
            status=c.status,
            scopes=list(c.scopes),
            terms_version=c.terms.version,
            recipients=list(c.terms.recipients),
            retention_days=c.terms.retention_days,
            changed_at=c.changed_at,
            reason=c.reason,
        )


class ConsentPublic(BaseModel):
    """One of the user's consents: its latest version and, when asked, its whole history."""

    consent_id: str
    app_id: str
    app_name: str | None
    status: str
    version: int
    scopes: list[str]
    purpose: str
    terms_version: str
    recipients: list[str]
    retention_days: int
    granted_at: datetime
    changed_at: datetime
    history: list[VersionPublic]

    @classmethod
    def of(cls, c: Consent, *, app_name: str | None, history: list[Consent]) -> ConsentPublic:
        return cls(
            consent_id=c.consent_id,
            app_id=c.app_id,
            app_name=app_name,
            status=c.status,
            version=c.version,
            scopes=list(c.scopes),
            purpose=c.purpose,
            terms_version=c.terms.version,
            recipients=list(c.terms.recipients),
            retention_days=c.terms.retention_days,
            granted_at=c.granted_at,
            changed_at=c.changed_at,
            history=[VersionPublic.of(v) for v in history],
        )


class ConsentList(BaseModel):
    """Every consent of the user, each with its history."""

    consents: list[ConsentPublic]


class RevokedPublic(BaseModel):
    """What a revocation left: the consents now revoked (each once, however often asked)."""

    revoked: list[ConsentPublic]
