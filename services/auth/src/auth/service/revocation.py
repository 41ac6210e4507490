"""Ending token families: by the app (RFC 7009), on reuse, and when a consent ends.

A revocation marks the family revoked first (every verification and introspection refuses from
that write on), then publishes `auth.token_revoked.v1` once: the publication is claimed by a
unique insert, so concurrent revokers of one family (31 losers of a code race, the consumer and
a replay) publish one event; a failed publish gives the claim back for the next attempt.
"""

from __future__ import annotations

import logging
from typing import Literal

from auth.domain.token_rules import ACCESS_TOKEN_TYPS, sha256_hex
from auth.service.token_kit import TokenKit
from auth.service.token_ports import Family
from shared.events import auth, make_event
from shared.kafka.publisher import DurablePublisher

log = logging.getLogger(__name__)
Reason = Literal["user", "app", "consent_revoked", "refresh_reuse", "user_deleted"]
HINTS = frozenset({"access_token", "refresh_token"})


class Revocations:
    """Revokes families and announces it."""

    def __init__(self, *, kit: TokenKit, publisher: DurablePublisher, source: str) -> None:
        self._kit, self._publisher, self._source = kit, publisher, source

    async def revoke(
        self, family: Family, *, reason: Reason, strict: bool = True, code_reuse: bool = False
    ) -> None:
        """Revoke the family, then publish its revocation once (`strict=False`: a failed
        publish is logged, not raised: the request path answers its refusal regardless;
        `code_reuse`: a second redemption of the family's code ended it)."""
        await self._kit.store.revoke_family(family.family_id, now=self._kit.clock())
        try:
            await self._announce(family, reason=reason, code_reuse=code_reuse)
        except Exception:
            if strict:
                raise
            log.warning("token family revoked; its event not published", exc_info=True)

    async def revoke_id(
        self, family_id: str, *, reason: Reason, strict: bool = True, code_reuse: bool = False
    ) -> None:
        """Revoke the family with this id, if it exists."""
        family = await self._kit.store.get_family(family_id)
        if family is not None:
            await self.revoke(family, reason=reason, strict=strict, code_reuse=code_reuse)

    async def _announce(self, family: Family, *, reason: Reason, code_reuse: bool) -> None:
        store = self._kit.store
        if not await store.claim_revocation_event(family.family_id):
            return
        grant = family.grant
        data = auth.TokenRevoked(
            user_key=grant.user_key,
            token_id=family.family_id,
            app_id=grant.client_id,
            reason=reason,
            code_reuse=code_reuse,
        )
        try:
            await self._publisher.publish(make_event(data, source=self._source))
        except BaseException:
            await store.release_revocation_event(family.family_id)
            raise

    async def revoke_consent(
        self, *, user_key: str, app_id: str, consent_id: str, version: int
    ) -> int:
        """Revoke the families granted under versions of this consent older than `version`
        (the version the revocation or invalidation wrote); how many. Idempotent."""
        ended = 0
        store = self._kit.store
        for family_id in await store.families_of_consent(
            user_key=user_key, app_id=app_id, consent_id=consent_id
        ):
            family = await store.get_family(family_id)
            if family is None or family.grant.consent_version >= version:
                continue  # swept, or granted under a renewal after this event
            await self.revoke(family, reason="consent_revoked")
            ended += 1
        return ended

    async def revoke_token(self, *, client_id: str, token: str, hint: str | None) -> None:
        """RFC 7009: end the family of the caller's own token; anything else changes nothing."""
        order = ["refresh_token", "access_token"]
        if hint == "access_token":
            order.reverse()
        for kind in order:
            family_id = await self._family_of(kind, token=token, client_id=client_id)
            if family_id is not None:
                await self.revoke_id(family_id, reason="app", strict=False)
                return

    async def _family_of(self, kind: str, *, token: str, client_id: str) -> str | None:
        if kind == "refresh_token":
            stored = await self._kit.store.get_refresh(sha256_hex(token))
            if stored is None or stored.client_id != client_id:
                return None
            return stored.family_id
        try:  # an expired access token still names its family: revoking it is fine
            header, claims = self._kit.access.verified_claims(token)
        except ValueError:
            return None
        ours = header.get("typ") in ACCESS_TOKEN_TYPS and claims.get("iss") == self._kit.issuer
        if not ours or claims.get("client_id") != client_id:
            return None
        family_id = claims.get("fid")
        return family_id if isinstance(family_id, str) else None
