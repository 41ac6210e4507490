"""The consent hand-over's two JWS on auth's side (consent README "Hand-over" 2 and 4).

- The challenge auth signs: header `alg` Ed25519, `typ` `kits-consent-challenge+jwt`, `kid` of
  auth's first platform key (`AUTH_USER_TOKEN_KEYS`, published at `/.well-known/jwks.json`, the
  JWKS consent trusts as `CONSENT_USER_TOKEN_JWKS_URL`); claims `iss` (auth), `aud`
  `kits-consent`, `sub` (the user key), `jti`, `iat`, `exp`, `app_id`, `pairwise_subject`,
  `scopes` (without `openid`), `purpose`, `return_to`, `state` (the flow id), `nonce_sha256`.
- The verdict consent signs: `typ` `kits-consent-verdict+jwt`, verified with consent's JWKS
  (`AUTH_CONSENT_JWKS_URL`), `iss` = `AUTH_CONSENT_ISSUER`, `aud` = auth's issuer, `exp`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from joserfc import jwt

from auth.domain.consent_flow import Flow, Verdict, VerdictRefused
from auth.service.authorize_ports import ChallengeFacts
from shared.signing_keys import ALGORITHM, keys_from_setting
from shared.user_tokens import InvalidUserToken, KeysUnavailable, UserTokenVerifier

CHALLENGE_TYP = "kits-consent-challenge+jwt"
CHALLENGE_AUDIENCE = "kits-consent"
VERDICT_TYP = "kits-consent-verdict+jwt"
MAX_CLAIM_CHARS = 2000


class ChallengeJws:
    """Signs challenges with auth's current platform key."""

    def __init__(self, *, seeds: str, issuer: str) -> None:
        self._key = keys_from_setting(seeds)[0]
        self._issuer = issuer

    def sign(self, flow: Flow, *, facts: ChallengeFacts) -> str:
        """The compact JWS of the flow's challenge (lives until the flow expires)."""
        claims = {
            "iss": self._issuer,
            "aud": CHALLENGE_AUDIENCE,
            "sub": flow.user_key,
            "jti": flow.challenge_id,
            "iat": int(flow.created_at),
            "exp": int(flow.expires_at),
            "app_id": facts.app_id,
            "pairwise_subject": flow.pairwise_subject,
            "scopes": list(flow.request.consent_scopes),
            "purpose": flow.purpose,
            "return_to": facts.return_to,
            "state": flow.flow_id,
            "nonce_sha256": flow.nonce_sha256,
        }
        header = {"alg": ALGORITHM, "typ": CHALLENGE_TYP, "kid": self._key.kid}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])


class VerdictJws:
    """Verifies consent's verdicts with consent's published keys."""

    def __init__(
        self,
        *,
        consent_issuer: str,
        audience: str,
        jwks: str = "",
        jwks_url: str = "",
        development: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._verifier = UserTokenVerifier(
            issuer=consent_issuer,
            audience=audience,
            jwks=jwks,
            jwks_url=jwks_url,
            development=development,
            clock=clock,
            typ=VERDICT_TYP,
            required=("jti", "iat", "challenge", "nonce_sha256", "state", "decision"),
        )

    async def read(self, token: str) -> Verdict:
        """The verified verdict, or VerdictRefused saying why not."""
        try:
            claims = await self._verifier.claims(token)
        except InvalidUserToken as exc:
            if "expired" in str(exc):
                raise VerdictRefused(410, "this consent answer has expired; start again") from exc
            raise VerdictRefused(400, "this consent answer is not signed by consent") from exc
        except KeysUnavailable as exc:
            raise VerdictRefused(503, "consent's keys cannot be fetched now; try again") from exc
        try:
            return _verdict(claims)
        except (KeyError, TypeError, ValueError) as exc:
            raise VerdictRefused(400, "this consent answer is malformed") from exc


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims[name]
    if not isinstance(value, str) or len(value) > MAX_CLAIM_CHARS:
        raise TypeError(f"{name} must be a string")
    return value


def _verdict(claims: dict[str, Any]) -> Verdict:
    decision = _text(claims, "decision")
    if decision not in ("allow", "deny"):
        raise ValueError("decision must be allow or deny")
    denied = Verdict(
        user_key=_text(claims, "sub"),
        challenge_id=_text(claims, "challenge"),
        nonce_sha256=_text(claims, "nonce_sha256"),
        state=_text(claims, "state"),
        allowed=False,
    )
    if decision == "deny":
        return denied
    version, scopes = claims["consent_version"], claims["scopes"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise TypeError("consent_version must be an integer")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise TypeError("scopes must be a list of strings")
    return replace(
        denied,
        allowed=True,
        consent_id=_text(claims, "consent_id"),
        consent_version=version,
        terms_version=_text(claims, "terms_version"),
        scopes=tuple(scopes),
    )
