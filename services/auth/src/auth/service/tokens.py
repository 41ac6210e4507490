"""The token endpoint's grants: authorization_code (PKCE S256) and refresh_token (rotation).

Both end in `_release`: a refresh token stored, an access token (and, with `openid`, an ID
token) minted, the response body built once as bytes, and then, concurrently, the transfer
record of those exact bytes (the TransferRecorder port) and `auth.token_issued.v1`. Only when
both are acknowledged do the bytes leave; otherwise the new family is revoked and the caller
answers 503, so nothing usable was issued.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import PyMongoError

from auth.domain import oauth_errors as oe
from auth.domain.apps import App
from auth.domain.grants import ConsentAnswer, ConsentUnavailable, Grant
from auth.domain.pkce import verifier_matches
from auth.domain.token_rules import OPENID, narrowed, new_secret_token, sha256_hex
from auth.service.oauth_ports import ConsentCheck, TransferNotRecorded, TransferRecorder
from auth.service.revocation import Revocations
from auth.service.token_kit import Minted, TokenKit, consent_scopes, with_scopes
from auth.service.token_ports import Family, FamilyExists, StoredRefresh, TokenUsed
from shared.events import auth, make_event
from shared.kafka.publisher import DurablePublisher, PublishFailed

log = logging.getLogger(__name__)
REFRESH_PREFIX = "krt_"
TOKEN_FIELDS = ("open_id", "scope")
ID_TOKEN_FIELDS = ("id_token.sub", "id_token.auth_time", "id_token.nonce")


@dataclass(frozen=True, slots=True)
class Release:
    """What a grant hands to `_release`."""

    family: Family
    scopes: tuple[str, ...]
    grant_type: str
    consent: ConsentAnswer


class TokenService:
    """Redeems codes and refresh tokens into token responses (bytes)."""

    def __init__(
        self,
        *,
        kit: TokenKit,
        revocations: Revocations,
        consent: ConsentCheck,
        transfers: TransferRecorder,
        publisher: DurablePublisher,
        source: str,
    ) -> None:
        self._kit, self._revocations = kit, revocations
        self._consent, self._transfers = consent, transfers
        self._publisher, self._source = publisher, source

    async def redeem_code(
        self, *, client: App, code: str, redirect_uri: str, verifier: str | None, request_id: str
    ) -> bytes:
        """RFC 6749 4.1.3 with RFC 7636 4.6: the one redemption of a bound, live code."""
        stored = await self._kit.store.get_code(sha256_hex(code))
        if stored is None or stored.grant.client_id != client.client_id:
            raise oe.invalid_grant("unknown code, or a code issued to another client")
        if redirect_uri != stored.redirect_uri:
            raise oe.invalid_grant("redirect_uri differs from the authorization request's")
        if not verifier:
            raise oe.invalid_grant("code_verifier is required (PKCE S256)")
        if not verifier_matches(verifier=verifier, challenge=stored.code_challenge):
            raise oe.invalid_grant("code_verifier does not match the code_challenge")
        now = self._kit.clock()
        if now >= stored.expires_at:
            await self._revocations.revoke_id(  # a late replay of a redeemed code
                stored.family_id, reason="refresh_reuse", strict=False, code_reuse=True
            )
            raise oe.invalid_grant("code expired")
        answer = await self._check(stored.grant, stored.grant.scopes)
        family = Family(
            family_id=stored.family_id,
            grant=stored.grant,
            created_at=now,
            expires_at=now + self._kit.lifetimes.refresh_family_s,
        )
        try:
            await self._kit.store.create_family(family)
        except FamilyExists:  # a second redemption: refuse, and end what the first issued
            await self._revocations.revoke_id(
                family.family_id, reason="refresh_reuse", strict=False, code_reuse=True
            )
            raise oe.invalid_grant("code already used; the tokens it issued are revoked") from None
        refresh = new_secret_token(REFRESH_PREFIX)
        release = Release(family, stored.grant.scopes, "authorization_code", answer)
        storing = self._store_refresh(refresh, family=family, scopes=stored.grant.scopes)
        return await self._release(release, request_id, refresh=refresh, storing=storing)

    async def refresh(
        self, *, client: App, token: str, scope: tuple[str, ...] | None, request_id: str
    ) -> bytes:
        """RFC 6749 6 with RFC 9700 2.2.2: rotate; a reused token ends its whole family."""
        store = self._kit.store
        stored = await store.get_refresh(sha256_hex(token))
        if stored is None or stored.client_id != client.client_id:
            raise oe.invalid_grant("unknown refresh token, or one issued to another client")
        family = await store.get_family(stored.family_id)
        now = self._kit.clock()
        if family is None or family.revoked or now >= family.expires_at:
            raise oe.invalid_grant("refresh token revoked or expired")
        try:
            scopes = narrowed(granted=stored.scopes, requested=scope)
        except ValueError as exc:
            raise oe.invalid_scope(str(exc)) from exc
        try:
            answer = await self._check(family.grant, scopes)
        except oe.OAuthError as exc:
            if exc.error == "invalid_grant":  # the consent ended: so does the family
                await self._revocations.revoke(family, reason="consent_revoked", strict=False)
            raise
        refresh = new_secret_token(REFRESH_PREFIX)
        claimed, stored_new = await asyncio.gather(
            store.claim_refresh(stored.token_hash, expires_at=family.expires_at),
            self._store_refresh(refresh, family=family, scopes=scopes),
            return_exceptions=True,
        )
        if isinstance(claimed, TokenUsed):  # the new token, stored at once, is never shown
            await self._revocations.revoke(family, reason="refresh_reuse", strict=False)
            raise oe.invalid_grant("refresh token reused; its family is revoked") from None
        for outcome in (claimed, stored_new):
            if isinstance(outcome, BaseException):
                raise outcome
        release = Release(family, scopes, "refresh_token", answer)
        return await self._release(release, request_id, refresh=refresh)

    async def _check(self, grant: Grant, scopes: tuple[str, ...]) -> ConsentAnswer:
        try:
            answer = await self._consent.check(
                user_key=grant.user_key, app_id=grant.client_id, scopes=consent_scopes(scopes)
            )
        except ConsentUnavailable as exc:
            raise oe.temporarily_unavailable("the consent service did not answer") from exc
        if not answer.allowed:
            raise oe.invalid_grant(f"no consent covers this any more ({answer.reason})")
        return answer

    async def _store_refresh(self, token: str, *, family: Family, scopes: tuple[str, ...]) -> None:
        stored = StoredRefresh(
            sha256_hex(token), family.family_id, family.grant.client_id, scopes, self._kit.clock()
        )
        await self._kit.store.put_refresh(stored, expires_at=family.expires_at)

    async def _release(
        self,
        release: Release,
        request_id: str,
        *,
        refresh: str,
        storing: Coroutine[Any, Any, None] | None = None,
    ) -> bytes:
        body, fields, access = self._answer(release, refresh=refresh)
        grant = with_scopes(release.family.grant, release.scopes)
        record = self._transfers.record(
            grant=grant,
            consent=release.consent,
            scopes_used=release.scopes,
            fields_released=fields,
            body=body,
            request_id=request_id,
        )
        issued = _issued(grant, access, grant_type=release.grant_type)
        publish = self._publisher.publish(make_event(issued, source=self._source))
        # The family is claimed, so the record, the event and the refresh token's storage
        # run together; the bytes leave only when all three are done.
        steps: list[Coroutine[Any, Any, Any]] = [record, publish, *([storing] if storing else [])]
        outcomes = await asyncio.gather(*steps, return_exceptions=True)
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        if failed:
            await self._kit.store.revoke_family(release.family.family_id, now=self._kit.clock())
            expected = (TransferNotRecorded, PublishFailed, TimeoutError, PyMongoError)
            if not all(isinstance(f, expected) for f in failed):
                raise failed[0]
            log.warning("token response withheld: %s", ", ".join(type(f).__name__ for f in failed))
            raise oe.temporarily_unavailable("the release could not be recorded; try again")
        return body

    def _answer(self, release: Release, *, refresh: str) -> tuple[bytes, tuple[str, ...], Minted]:
        """The token response's exact bytes, the fields it releases, and its access token."""
        family, scopes = release.family, release.scopes
        now = int(self._kit.clock())
        access = self._kit.mint_access(family=family, scopes=scopes, now=now)
        grant = with_scopes(family.grant, scopes)
        answer: dict[str, object] = {
            "access_token": access.token,
            "token_type": "Bearer",
            "expires_in": access.expires_at - now,
            "refresh_token": refresh,
            "refresh_expires_in": int(family.expires_at) - now,
            "scope": " ".join(scopes),
            "open_id": grant.pairwise_subject,
        }
        fields: tuple[str, ...] = TOKEN_FIELDS
        if OPENID in scopes:
            answer["id_token"] = self._kit.mint_id_token(grant=grant, now=now)
            fields += ID_TOKEN_FIELDS
        return json.dumps(answer, separators=(",", ":")).encode(), fields, access


def _issued(grant: Grant, access: Minted, *, grant_type: str) -> auth.TokenIssued:
    return auth.TokenIssued(
        user_key=grant.user_key,
        token_id=access.token_id,
        app_id=grant.client_id,
        pairwise_subject=grant.pairwise_subject,
        consent_id=grant.consent_id,
        scopes=grant.scopes,
        grant_type="refresh_token" if grant_type == "refresh_token" else "authorization_code",
        expires_at=datetime.fromtimestamp(access.expires_at, UTC),
    )
