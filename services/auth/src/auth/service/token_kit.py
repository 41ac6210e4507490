"""What the token use cases share: the store, the signers, the lifetimes, and the minting."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auth.domain.grants import Grant
from auth.domain.token_rules import (
    ACCESS_TOKEN_TYP,
    OPENID,
    Lifetimes,
    audiences,
    new_id,
)
from auth.service.token_ports import AccessTokenCodec, Family, JwtSigner, OAuthStore

ID_TOKEN_TYP = "JWT"


@dataclass(frozen=True, slots=True)
class Minted:
    """An access token just signed, and its id and expiry."""

    token: str
    token_id: str
    expires_at: int


@dataclass
class TokenKit:
    """The token side's adapters and settings, handed to each use case."""

    store: OAuthStore
    access: AccessTokenCodec
    id_tokens: JwtSigner
    issuer: str
    lifetimes: Lifetimes
    clock: Callable[[], float] = time.time

    def mint_access(self, *, family: Family, scopes: tuple[str, ...], now: int) -> Minted:
        """An RFC 9068 access token of the family, for these scopes (never past the family)."""
        grant = family.grant
        token_id = new_id()
        expires = min(now + self.lifetimes.access_s, int(family.expires_at))
        claims = {
            "iss": self.issuer,
            "sub": grant.pairwise_subject,
            "aud": self.access_audiences(scopes),
            "client_id": grant.client_id,
            "scope": " ".join(scopes),
            "jti": token_id,
            "iat": now,
            "exp": expires,
            "consent_id": grant.consent_id,
            "fid": family.family_id,
        }
        return Minted(self.access.sign(claims, typ=ACCESS_TOKEN_TYP), token_id, expires)

    def mint_id_token(self, *, grant: Grant, now: int) -> str:
        """The OpenID Connect ID token (RS256, pairwise `sub`, `aud` = `azp` = the client)."""
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": grant.pairwise_subject,
            "aud": grant.client_id,
            "azp": grant.client_id,
            "iat": now,
            "exp": now + self.lifetimes.id_token_s,
            "auth_time": grant.auth_time,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        return self.id_tokens.sign(claims, typ=ID_TOKEN_TYP)

    def access_audiences(self, scopes: tuple[str, ...]) -> list[str]:
        """The `aud` of an access token with these scopes."""
        return audiences(s for s in scopes if s != OPENID)

    def jwks(self) -> dict[str, Any]:
        """`/oauth/jwks.json`: every access-token key, then every ID-token key."""
        return {"keys": [*self.access.jwks(), *self.id_tokens.jwks()]}


def with_scopes(grant: Grant, scopes: tuple[str, ...]) -> Grant:
    """The grant as one token carries it (a refresh may have narrowed the scopes)."""
    return dataclasses.replace(grant, scopes=scopes)


def consent_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """The scopes a consent covers: the protocol scope `openid` is not a data scope."""
    return tuple(s for s in scopes if s != OPENID)
