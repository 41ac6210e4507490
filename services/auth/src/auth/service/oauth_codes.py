"""Issuing authorization codes (the `AuthorizationCodes` port): random, stored as SHA-256."""

from __future__ import annotations

from auth.domain.grants import Grant
from auth.domain.pkce import is_s256_challenge
from auth.domain.token_rules import new_id, new_secret_token, sha256_hex
from auth.service.token_kit import TokenKit
from auth.service.token_ports import StoredCode

CODE_PREFIX = "kac_"


class OAuthCodes:
    """Codes bound to the client (in the grant), the redirect URI and the S256 challenge."""

    def __init__(self, *, kit: TokenKit) -> None:
        self._kit = kit

    async def issue(self, *, grant: Grant, redirect_uri: str, code_challenge: str) -> str:
        """A new code living `lifetimes.code_s` (at most 60 s); only its hash is stored, with
        the id of the family its one redemption will create (so a replay can revoke it)."""
        if not is_s256_challenge(code_challenge):
            raise ValueError("code_challenge must be an S256 challenge (43 base64url chars)")
        code = new_secret_token(CODE_PREFIX)
        await self._kit.store.put_code(
            StoredCode(
                code_hash=sha256_hex(code),
                family_id=new_id(),
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                grant=grant,
                expires_at=self._kit.clock() + self._kit.lifetimes.code_s,
            )
        )
        return code
