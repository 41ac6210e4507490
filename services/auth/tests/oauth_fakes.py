"""The one set of fakes of the OAuth server's own ports (never of the broker or database):
the consent check, the authorization codes store, the access tokens and the transfer recorder,
and the grants the tests build. Unit tests use them all; integration tests only those of the
ports whose real adapter is not the point of the test."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field

from auth.domain.grants import (
    AccessGrant,
    ConsentAnswer,
    ConsentUnavailable,
    Grant,
    InvalidAccessToken,
)
from auth.domain.identity import new_user_key
from auth.service.data_api import AUDIENCE
from auth.service.oauth_ports import TransferNotRecorded


def new_grant(*, scopes: tuple[str, ...], user_key: str | None = None) -> Grant:
    """A grant of a fresh app for `user_key` (a new user by default)."""
    return Grant(
        client_id=f"app-{uuid.uuid4()}",
        user_key=user_key or new_user_key(),
        # A letter first: `transfer.recorded.v1` types the subject as an `Identifier`, which
        # refuses a leading `-` or `_` that one real pairwise id in 32 has (see the report).
        pairwise_subject="p" + secrets.token_urlsafe(32),
        scopes=tuple(sorted(scopes)),
        consent_id=f"cn_{uuid.uuid4().hex}",
        consent_version=1,
        terms_version="2026-11",
        purpose="log in and show your profile",
        auth_time=int(time.time()),
    )


def covered(grant: Grant) -> ConsentAnswer:
    """The consent check's answer that allows `grant`."""
    return ConsentAnswer(
        True,
        "covered",
        consent_id=grant.consent_id,
        version=grant.consent_version,
        terms_version=grant.terms_version,
    )


class FakeConsentCheck:
    """An in-memory ConsentCheck: the test sets the answer per (user key, app id);
    `unavailable = True` makes it raise ConsentUnavailable, as a consent service that is away."""

    def __init__(self, *, unavailable: bool = False) -> None:
        self.answers: dict[tuple[str, str], ConsentAnswer] = {}
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []
        self.unavailable = unavailable

    async def check(self, *, user_key: str, app_id: str, scopes: tuple[str, ...]) -> ConsentAnswer:
        """The answer the test set for (user, app), else `no_consent`; or ConsentUnavailable."""
        self.calls.append((user_key, app_id, scopes))
        if self.unavailable:
            raise ConsentUnavailable("the fake consent service is away")
        return self.answers.get((user_key, app_id), ConsentAnswer(False, "no_consent"))


class FakeAuthorizationCodes:
    """An in-memory AuthorizationCodes; keeps what each code was issued for."""

    def __init__(self) -> None:
        self.issued: dict[str, tuple[Grant, str, str]] = {}

    async def issue(self, *, grant: Grant, redirect_uri: str, code_challenge: str) -> str:
        """A new random code bound to the grant, redirect URI and challenge."""
        code = secrets.token_urlsafe(32)
        self.issued[code] = (grant, redirect_uri, code_challenge)
        return code


class FakeAccessTokens:
    """An in-memory AccessTokens: tokens the test issued, for the Login Kit audience only."""

    def __init__(self) -> None:
        self.grants: dict[str, AccessGrant] = {}

    def issue(self, grant: Grant) -> str:
        """A new token standing for `grant`."""
        token = secrets.token_urlsafe(32)
        now = int(time.time())
        self.grants[token] = AccessGrant(
            token_id=uuid.uuid4().hex,
            family_id=uuid.uuid4().hex,
            grant=grant,
            issued_at=now,
            expires_at=now + 600,
        )
        return token

    async def verify(self, token: str, *, audience: str) -> AccessGrant:
        """The grant of a token this fake issued, for `kits-login-kit`."""
        found = self.grants.get(token)
        if found is None:
            raise InvalidAccessToken("the access token is not valid")
        if audience != AUDIENCE:
            raise InvalidAccessToken("the access token is not for this resource")
        return found


@dataclass(frozen=True)
class Recorded:
    """One transfer the fake recorder acknowledged."""

    grant: Grant
    consent: ConsentAnswer
    scopes_used: tuple[str, ...]
    fields_released: tuple[str, ...]
    digest: str
    request_id: str


@dataclass
class FakeTransfers:
    """A TransferRecorder that keeps the records (the body's SHA-256), or refuses every one
    like a broker outage while `failing`."""

    failing: bool = False
    records: list[Recorded] = field(default_factory=list)

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
        """Keep the record, or TransferNotRecorded while failing."""
        if self.failing:
            raise TransferNotRecorded("broker did not acknowledge within 0.0s")
        digest = hashlib.sha256(body).hexdigest()
        self.records.append(
            Recorded(grant, consent, scopes_used, fields_released, digest, request_id)
        )
