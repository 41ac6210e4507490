"""Fakes of the data API's own ports (access tokens until H1's adapter is merged, the transfer
recorder for unit tests), and the grants the data API tests use."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field

from auth.domain.grants import AccessGrant, ConsentAnswer, Grant, InvalidAccessToken
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


@dataclass
class Recorded:
    """One record the fake recorder took."""

    grant: Grant
    consent: ConsentAnswer
    scopes_used: tuple[str, ...]
    fields_released: tuple[str, ...]
    digest: str
    request_id: str


@dataclass
class FakeTransfers:
    """A TransferRecorder that keeps the records, or refuses every one while `failing`."""

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
        """Keep the record (the body's SHA-256), or TransferNotRecorded while failing."""
        if self.failing:
            raise TransferNotRecorded("broker did not acknowledge within 0.0s")
        digest = hashlib.sha256(body).hexdigest()
        self.records.append(
            Recorded(grant, consent, scopes_used, fields_released, digest, request_id)
        )
