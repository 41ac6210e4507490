"""Ports of the token side of the OAuth server: the code, family and refresh-token stores and
the JWT signers (adapters: `adapters/mongo_oauth.py`, `adapters/jose_oauth.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from auth.domain.grants import Grant


@dataclass(frozen=True, slots=True)
class StoredCode:
    """An issued code as stored: its hash, bindings, the grant, and the family it will start."""

    code_hash: str
    family_id: str  # chosen at issue, so a replay knows which family to revoke
    redirect_uri: str
    code_challenge: str
    grant: Grant
    expires_at: float


@dataclass(frozen=True, slots=True)
class Family:
    """A refresh-token family: one redemption of one code and every rotation after it."""

    family_id: str
    grant: Grant
    created_at: float
    expires_at: float  # absolute
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class StoredRefresh:
    """One refresh token (by hash) of a family, with the scope its access tokens get."""

    token_hash: str
    family_id: str
    client_id: str
    scopes: tuple[str, ...]
    issued_at: float


class FamilyExists(Exception):
    """The family (so: the code that starts it) was already redeemed."""


class TokenUsed(Exception):
    """This refresh token was already rotated."""


class OAuthStore(Protocol):
    """Codes, families (sharded by id, with their index by consent) and refresh tokens."""

    async def put_code(self, code: StoredCode) -> None:
        """Store a new code under its hash."""
        ...

    async def get_code(self, code_hash: str) -> StoredCode | None:
        """The code with this hash, expired or not; None if unknown or swept."""
        ...

    async def create_family(self, family: Family) -> None:
        """Insert the family: the single-use claim of its code; FamilyExists if taken."""
        ...

    async def get_family(self, family_id: str) -> Family | None:
        """The family, revoked or not; None if unknown."""
        ...

    async def revoke_family(self, family_id: str, *, now: float) -> None:
        """Mark it revoked (monotone, idempotent: no compare-and-set needed)."""
        ...

    async def claim_revocation_event(self, family_id: str) -> bool:
        """Take the one publication of its revocation event (unique insert): True once."""
        ...

    async def release_revocation_event(self, family_id: str) -> None:
        """Give the publication back (it failed), so the next revocation publishes."""
        ...

    async def families_of_consent(
        self, *, user_key: str, app_id: str, consent_id: str
    ) -> list[str]:
        """The ids of the families created under this consent."""
        ...

    async def put_refresh(self, token: StoredRefresh, *, expires_at: float) -> None:
        """Store a new refresh token."""
        ...

    async def get_refresh(self, token_hash: str) -> StoredRefresh | None:
        """The refresh token with this hash (used or not)."""
        ...

    async def claim_refresh(self, token_hash: str, *, expires_at: float) -> None:
        """Take its one use; TokenUsed if it was taken already."""
        ...

    async def refresh_used(self, token_hash: str) -> bool:
        """Whether its one use was taken."""
        ...


class JwtSigner(Protocol):
    """Signs and verifies one kind of JWT with rotatable keys."""

    def sign(self, claims: dict[str, Any], *, typ: str) -> str:
        """The compact JWS of `claims` with the first key (its kid in the header)."""
        ...

    def jwks(self) -> list[dict[str, Any]]:
        """The public JWKs of every configured key."""
        ...


class AccessTokenCodec(JwtSigner, Protocol):
    """The access-token signer, which also checks its own tokens' signatures."""

    def verified_claims(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(header, claims) of a token signed by one of our keys; ValueError with a safe
        reason otherwise (`alg` other than ours, unknown kid, bad signature, garbage)."""
        ...
