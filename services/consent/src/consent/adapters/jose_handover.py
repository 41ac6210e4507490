"""The hand-over's wire format (compact JWS, Ed25519) and consent's own signatures.

- Challenge (auth → screen): header `typ` `kits-consent-challenge+jwt`, signed with auth's keys
  (the same JWKS as its user tokens); claims `iss` (auth), `aud` `kits-consent`, `sub` (user
  key), `jti`, `iat`, `exp`, `app_id`, `pairwise_subject`, `scopes`, `purpose`, `return_to`,
  `state`, `nonce_sha256`.
- Verdict (screen → auth): header `typ` `kits-consent-verdict+jwt`, signed with consent's
  keys (`/.well-known/jwks.json` of consent); claims `iss` (consent), `aud` (auth), `sub`,
  `jti`, `iat`, `exp` (60 s), `challenge` (its jti), `nonce_sha256`, `state`, `decision`
  (`allow` | `deny`), and for an allow `consent_id`, `consent_version`, `scopes`,
  `terms_version`.
- Receipt: a compact JWS (`typ` `kits-consent-receipt+jws`, `cty` `json`) of the receipt
  document, signed with consent's keys.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, cast

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from pydantic import TypeAdapter, ValidationError

from consent.domain.handover import Challenge, Decision, HandoverRefused
from shared.events.envelope import Identifier
from shared.signing_keys import ALGORITHM, jwks, keys_from_setting
from shared.user_tokens import InvalidUserToken, UserTokenVerifier

CHALLENGE_TYP = "kits-consent-challenge+jwt"
VERDICT_TYP = "kits-consent-verdict+jwt"
RECEIPT_TYP = "kits-consent-receipt+jws"
CHALLENGE_AUDIENCE = "kits-consent"
VERDICT_LIFETIME_S = 60
MAX_FIELD = 2000


class ChallengeReader:
    """Verifies auth's challenge with auth's keys and reads its claims."""

    def __init__(self, verifier: UserTokenVerifier) -> None:
        self._verifier = verifier

    async def read(self, token: str) -> Challenge:
        """The challenge's claims; HandoverRefused (forged, expired or malformed) otherwise;
        KeysUnavailable when auth's keys were never fetched."""
        try:
            claims = await self._verifier.claims(token)
        except InvalidUserToken as exc:
            kind = "expired" if "expired" in str(exc) else "forged"
            words = "has expired" if kind == "expired" else "is not signed by the platform"
            raise HandoverRefused(kind, f"this consent request {words}") from exc
        try:
            return _challenge(claims)
        except (KeyError, TypeError, ValueError) as exc:
            raise HandoverRefused("malformed", "this consent request is malformed") from exc


def _text(claims: dict[str, Any], name: str, *, default: str | None = None) -> str:
    value = claims.get(name, default)
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise ValueError(f"{name} must be a string")
    return value


_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)


def _identifier(claims: dict[str, Any], name: str) -> str:
    """A key the consent's events will carry: refused here, as a malformed request, rather than
    at the grant's event (which would be a 500 after the user pressed Allow)."""
    try:
        return _IDENTIFIER.validate_python(_text(claims, name))
    except ValidationError as exc:
        raise ValueError(f"{name} is not an identifier") from exc


def _challenge(claims: dict[str, Any]) -> Challenge:
    scopes = claims["scopes"]
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise TypeError("scopes must be a list of strings")
    return Challenge(
        challenge_id=_text(claims, "jti"),
        issuer=_text(claims, "iss"),
        user_key=_identifier(claims, "sub"),
        app_id=_identifier(claims, "app_id"),
        pairwise_subject=_identifier(claims, "pairwise_subject"),
        scopes=tuple(scopes),
        purpose=_text(claims, "purpose", default="Log in and share the data you allow"),
        return_to=_text(claims, "return_to"),
        state=_text(claims, "state", default=""),
        nonce_sha256=_text(claims, "nonce_sha256"),
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
    )


class ConsentSigner:
    """Signs verdicts and receipts with consent's current key; publishes all its keys."""

    def __init__(self, *, seeds: str, issuer: str) -> None:
        self._keys = keys_from_setting(seeds)
        self._issuer = issuer

    @property
    def issuer(self) -> str:
        """Consent's `iss`."""
        return self._issuer

    def verdict(self, decision: Decision, *, audience: str, now: float | None = None) -> str:
        """The signed answer auth reads back."""
        issued = int(time.time() if now is None else now)
        c = decision.challenge
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": audience,
            "sub": c.user_key,
            "jti": uuid.uuid4().hex,
            "iat": issued,
            "exp": issued + VERDICT_LIFETIME_S,
            "challenge": c.challenge_id,
            "nonce_sha256": c.nonce_sha256,
            "state": c.state,
            "decision": "allow" if decision.allowed else "deny",
        }
        if decision.allowed:
            claims |= {
                "consent_id": decision.consent_id,
                "consent_version": decision.consent_version,
                "scopes": list(c.scopes),
                "terms_version": decision.terms_version,
            }
        key = self._keys[0]
        header = {"alg": ALGORITHM, "typ": VERDICT_TYP, "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=[ALGORITHM])

    def receipt(self, document: dict[str, object]) -> str:
        """The receipt as a compact JWS over its canonical JSON."""
        key = self._keys[0]
        header = {"alg": ALGORITHM, "typ": RECEIPT_TYP, "cty": "json", "kid": key.kid}
        payload = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        return jws.serialize_compact(header, payload, key, algorithms=[ALGORITHM])

    def jwks(self) -> dict[str, Any]:
        """The public keys that verify verdicts and receipts."""
        return jwks(self._keys)


def verify_receipt(token: str, published: dict[str, Any]) -> dict[str, Any]:
    """A receipt's document if it verifies with a published JWKS (ValueError otherwise)."""
    try:
        found = jws.deserialize_compact(
            token,
            KeySet.import_key_set(cast(Any, published)),
            algorithms=[ALGORITHM],
        )
    except (JoseError, ValueError) as exc:
        raise ValueError(f"the receipt does not verify: {exc}") from exc
    document: dict[str, Any] = json.loads(found.payload)
    return document
