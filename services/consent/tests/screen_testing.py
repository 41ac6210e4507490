"""Helpers of the consent-screen tests: auth's part of the hand-over, played by the tests.

Until auth's OAuth side exists, the tests make signed challenges and read verdicts through the
same hand-over auth will use (README "Hand-over"): a challenge signed with an "auth" key whose
JWKS consent trusts, a nonce in the flow cookie, a verdict verified with consent's JWKS.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey

from consent.adapters.jose_handover import CHALLENGE_AUDIENCE, CHALLENGE_TYP, ConsentSigner
from consent.domain.handover import Challenge
from consent.domain.receipt import ReceiptFacts, receipt
from consent.service.screen_ports import AppView, Granted

AUTH_ISSUER = "https://auth.test"
CALLBACK = "https://auth.test/oauth/consent/callback"
AUTH_KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "test-auth-key"})
FORGER_KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "test-auth-key"})
APP = AppView(
    app_id="app-music",
    name="Tune Lab",
    allowed_scopes=("user.info.basic", "video.list", "sound.upload"),
    terms_version="3",
    terms_url="https://tunelab.example/terms/3",
    privacy_policy_url="https://tunelab.example/privacy",
    recipients=("Analytics Partner Ltd",),
    retention_days=30,
)


def auth_jwks() -> str:
    """The JWKS consent trusts for challenges (auth's keys), as inline JSON."""
    import json

    return json.dumps(KeySet([AUTH_KEY]).as_dict(private=False))


@dataclass(frozen=True)
class Flow:
    """One browser's hand-over: the signed challenge and the nonce in its cookie."""

    token: str
    nonce: str
    claims: dict[str, Any]


def challenge(
    *,
    key: OKPKey = AUTH_KEY,
    user_key: str | None = None,
    app_id: str = APP.app_id,
    scopes: tuple[str, ...] = ("user.info.basic", "video.list"),
    lifetime_s: int = 120,
    age_s: int = 0,
    **overrides: Any,
) -> Flow:
    """A challenge as auth signs it, and the nonce auth put in the browser's cookie."""
    nonce = secrets.token_urlsafe(24)
    now = int(time.time()) - age_s
    claims: dict[str, Any] = {
        "iss": AUTH_ISSUER,
        "aud": CHALLENGE_AUDIENCE,
        "sub": user_key or f"user-{uuid.uuid4()}",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + lifetime_s,
        "app_id": app_id,
        "pairwise_subject": secrets.token_hex(32),  # as auth makes them
        "scopes": list(scopes),
        "purpose": "Log in to Tune Lab and show your videos",
        "return_to": CALLBACK,
        "state": secrets.token_urlsafe(8),
        "nonce_sha256": hashlib.sha256(nonce.encode()).hexdigest(),
        **overrides,
    }
    header = {"alg": "Ed25519", "typ": CHALLENGE_TYP, "kid": key.kid}
    return Flow(
        token=jwt.encode(header, claims, key, algorithms=["Ed25519"]), nonce=nonce, claims=claims
    )


@dataclass
class FakeApps:
    """The app read model, as a dict."""

    apps: dict[str, AppView] = field(default_factory=lambda: {APP.app_id: APP})

    async def app(self, app_id: str) -> AppView | None:
        return self.apps.get(app_id)


@dataclass
class FakeGrants:
    """Records grants in a list (the consent core's records stand behind this port), and
    signs each one's receipt from what the screen showed, as `Receipts` does from the record."""

    signer: ConsentSigner
    granted: list[Challenge] = field(default_factory=list)

    async def grant(self, *, challenge: Challenge, app: AppView) -> Granted:
        self.granted.append(challenge)
        consent_id, at = f"c-{challenge.user_key}-{app.app_id}", int(time.time())
        facts = ReceiptFacts(
            consent_id=consent_id,
            consent_version=len(self.granted),
            user_key=challenge.user_key,
            app_id=app.app_id,
            app_name=app.name,
            purpose=challenge.purpose,
            scopes=challenge.scopes,
            terms_version=app.terms_version,
            terms_url=app.terms_url,
            privacy_policy_url=app.privacy_policy_url,
            recipients=app.recipients,
            retention_days=app.retention_days,
            granted_at=at,
            jurisdiction="EU",
            issuer=self.signer.issuer,
        )
        return Granted(
            consent_id=consent_id,
            version=len(self.granted),
            terms_version=app.terms_version,
            granted_at=at,
            receipt=self.signer.receipt(receipt(facts, describe={})),
        )
