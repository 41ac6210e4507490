"""Reading tokens back: `AccessTokens.verify` (RFC 9068), introspection (RFC 7662), and the
resolve hand-over for sound. A token is live only while its family document exists, is not
revoked and has not reached its absolute expiry: revocation takes effect at the next read."""

from __future__ import annotations

from typing import Any

from auth.domain.grants import AccessGrant, ConsentUnavailable, InvalidAccessToken
from auth.domain.token_rules import ACCESS_TOKEN_TYPS, sha256_hex
from auth.service.oauth_ports import ConsentCheck
from auth.service.token_kit import TokenKit, consent_scopes, with_scopes

INACTIVE: dict[str, Any] = {"active": False}


class LiveTokens:
    """Verifies access tokens and answers introspection about the caller's own tokens."""

    def __init__(self, *, kit: TokenKit, consent: ConsentCheck) -> None:
        self._kit, self._consent = kit, consent

    async def verify(self, token: str, *, audience: str) -> AccessGrant:
        """The live grant behind `token` for `audience`; InvalidAccessToken otherwise."""
        return await self._verify(token, audience=audience)

    async def _verify(self, token: str, *, audience: str | None) -> AccessGrant:
        claims = self._claims(token)
        if audience is not None and audience not in _audiences(claims.get("aud")):
            raise InvalidAccessToken("token rejected: not for this audience")
        family_id, scope = claims.get("fid"), claims.get("scope")
        if not isinstance(family_id, str) or not isinstance(scope, str):
            raise InvalidAccessToken("token rejected: missing fid or scope")
        family = await self._kit.store.get_family(family_id)
        now = self._kit.clock()
        if family is None or family.revoked or now >= family.expires_at:
            raise InvalidAccessToken("token revoked")
        if family.grant.client_id != claims.get("client_id"):
            raise InvalidAccessToken("token rejected: client does not match its family")
        return AccessGrant(
            token_id=str(claims.get("jti", "")),
            family_id=family_id,
            grant=with_scopes(family.grant, tuple(scope.split())),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
        )

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            header, claims = self._kit.access.verified_claims(token)
        except ValueError as exc:
            raise InvalidAccessToken(str(exc)) from exc
        if header.get("typ") not in ACCESS_TOKEN_TYPS:
            raise InvalidAccessToken("token rejected: typ is not at+jwt")
        if claims.get("iss") != self._kit.issuer:
            raise InvalidAccessToken("token rejected: unexpected issuer")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise InvalidAccessToken("token rejected: exp and iat are required")
        if self._kit.clock() >= exp:
            raise InvalidAccessToken("token expired")
        return claims

    async def introspect(self, *, client_id: str, token: str, hint: str | None) -> dict[str, Any]:
        """RFC 7662 2.2 about the caller's own token; `{"active": false}` for anything else.
        ConsentUnavailable propagates (the endpoint answers 503: it cannot tell)."""
        order = ["access_token", "refresh_token"]
        if hint == "refresh_token":
            order.reverse()
        for kind in order:
            found = await (self._access(token) if kind == "access_token" else self._refresh(token))
            if found is not None:
                if found["client_id"] != client_id:
                    return INACTIVE
                return await self._consented(found)
        return INACTIVE

    async def _access(self, token: str) -> dict[str, Any] | None:
        try:
            live = await self._verify(token, audience=None)
        except InvalidAccessToken:
            return None
        grant = live.grant
        return {
            "active": True,
            "scope": " ".join(grant.scopes),
            "client_id": grant.client_id,
            "sub": grant.pairwise_subject,
            "exp": live.expires_at,
            "iat": live.issued_at,
            "iss": self._kit.issuer,
            "aud": self._kit.access_audiences(grant.scopes),
            "token_type": "Bearer",
            "jti": live.token_id,
            "_grant": grant,
        }

    async def _refresh(self, token: str) -> dict[str, Any] | None:
        store = self._kit.store
        stored = await store.get_refresh(sha256_hex(token))
        if stored is None or await store.refresh_used(stored.token_hash):
            return None  # unknown, or rotated: a rotated refresh token is inactive
        family = await store.get_family(stored.family_id)
        if family is None or family.revoked or self._kit.clock() >= family.expires_at:
            return None
        grant = with_scopes(family.grant, stored.scopes)
        return {
            "active": True,
            "scope": " ".join(stored.scopes),
            "client_id": stored.client_id,
            "sub": grant.pairwise_subject,
            "exp": int(family.expires_at),
            "iat": int(stored.issued_at),
            "iss": self._kit.issuer,
            "aud": self._kit.access_audiences(stored.scopes),
            "token_type": "refresh_token",
            "_grant": grant,
        }

    async def _consented(self, found: dict[str, Any]) -> dict[str, Any]:
        grant = found.pop("_grant")
        answer = await self._consent.check(
            user_key=grant.user_key, app_id=grant.client_id, scopes=consent_scopes(grant.scopes)
        )
        return found if answer.allowed else INACTIVE


def _audiences(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


__all__ = ["ConsentUnavailable", "LiveTokens"]
