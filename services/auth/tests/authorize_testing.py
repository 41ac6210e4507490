"""Helpers of the authorize tests: apps, a valid request, PKCE, fakes of the flow's own ports,
and consent's part of the hand-over (a verdict signed with a test consent key)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey
from oauth_fakes import FakeAuthorizationCodes, FakeConsentCheck

from auth.adapters.jose_consent_handover import VERDICT_TYP, ChallengeJws, VerdictJws
from auth.domain.apps import App, Terms
from auth.domain.consent_flow import Flow
from auth.service.authorize import Authorize, ErrorPage, Outcome, Redirect
from auth.service.authorize_ports import FlowExists
from auth.service.consent_callback import ConsentCallback
from auth.service.ports import Session

ISSUER = "https://auth.test"
CONSENT = "https://consent.test"
AUTH_KEYS = "dev-only-authorize-test-key"
CONSENT_KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "test-consent-key"})
CONSENT_JWKS = json.dumps(KeySet([CONSENT_KEY]).as_dict(private=False))


def app(client_id: str = "app_tunes", **overrides: Any) -> App:
    """A registered public app."""
    values: dict[str, Any] = {
        "client_id": client_id,
        "developer_id": "dev_1",
        "developer_name": "Dev",
        "name": "Tune Share",
        "client_type": "public",
        "redirect_uris": (
            "https://tunes.example/callback",
            "https://tunes.example/cb?from=login",
            "http://127.0.0.1:8765/cb",
        ),
        "allowed_scopes": ("user.info.basic", "video.list"),
        "terms": Terms(
            url="https://tunes.example/terms",
            version="2026-01",
            recipients=("Tune Share Ltd",),
            retention_days=30,
        ),
        "privacy_policy_url": "https://tunes.example/privacy",
        "deletion_webhook_url": "https://tunes.example/hooks/delete",
        "secret_sha256": None,
        "earlier_terms_versions": (),
        "created_at": 0.0,
        "updated_at": 0.0,
        **overrides,
    }
    return App(**values)


APP = app()
OTHER = app("app_other", name="Other", redirect_uris=("https://other.example/cb",))
REDIRECT = APP.redirect_uris[0]


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def request_params(**overrides: str | None) -> list[tuple[str, str]]:
    """A valid authorization request for APP (a None override drops the parameter)."""
    values: dict[str, str | None] = {
        "response_type": "code",
        "client_id": APP.client_id,
        "redirect_uri": REDIRECT,
        "scope": "user.info.basic video.list",
        "state": "st-" + secrets.token_urlsafe(8),
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
        **overrides,
    }
    return [(k, v) for k, v in values.items() if v is not None]


def answer_of(outcome: Outcome) -> dict[str, str]:
    """The query of a redirect (one value per name), plus `_to` = where it goes."""
    assert isinstance(outcome, Redirect), outcome
    parts = urlsplit(outcome.location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return {
        **query,
        "_to": f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.scheme else parts.path,
    }


def page_of(outcome: Outcome) -> ErrorPage:
    """The error page (asserting it is one, never a redirect)."""
    assert isinstance(outcome, ErrorPage), outcome
    assert 400 <= outcome.status < 500
    return outcome


@dataclass
class FakeApps:
    """The registry, as a dict."""

    apps: dict[str, App] = field(default_factory=lambda: {a.client_id: a for a in (APP, OTHER)})

    async def get(self, client_id: str) -> App | None:
        return self.apps.get(client_id)


@dataclass
class FakeSessions:
    """Sessions by cookie token."""

    sessions: dict[str, Session] = field(default_factory=dict)

    def login(self, user_key: str | None = None) -> str:
        token = secrets.token_urlsafe(16)
        now = time.time()
        self.sessions[token] = Session(
            session_id=token,
            user_key=user_key or f"uk_{uuid.uuid4().hex[:12]}",
            created_at=now - 5,
            expires_at=now + 3600,
        )
        return token

    async def resolve(self, token: str) -> Session | None:
        return self.sessions.get(token)


@dataclass
class FakeFlows:
    """The flow store in a dict (unique ids, claim once)."""

    flows: dict[str, Flow] = field(default_factory=dict)

    async def add(self, flow: Flow) -> None:
        if flow.flow_id in self.flows:
            raise FlowExists(flow.flow_id)
        self.flows[flow.flow_id] = flow

    async def get(self, flow_id: str) -> Flow | None:
        return self.flows.get(flow_id)

    async def claim(self, flow_id: str) -> bool:
        return self.flows.pop(flow_id, None) is not None


@dataclass
class Flows:
    """The authorize and callback use cases on fakes, and what they touched."""

    authorize: Authorize
    callback: ConsentCallback
    sessions: FakeSessions
    consent: FakeConsentCheck
    codes: FakeAuthorizationCodes
    flows: FakeFlows


def in_memory(**overrides: Any) -> Flows:
    """Authorize and callback on fakes (real JWS signing and verifying)."""
    sessions, consent, codes, flows = (
        FakeSessions(),
        FakeConsentCheck(),
        FakeAuthorizationCodes(),
        FakeFlows(),
    )
    authorize = Authorize(
        apps=FakeApps(),
        sessions=sessions,
        consent=consent,
        codes=codes,
        flows=flows,
        challenges=ChallengeJws(seeds=AUTH_KEYS, issuer=ISSUER),
        issuer=ISSUER,
        consent_url=CONSENT,
        pairwise_secret=b"pairwise-test-secret",
        challenge_ttl_s=120,
        **overrides,
    )
    verdicts = VerdictJws(consent_issuer=CONSENT, audience=ISSUER, jwks=CONSENT_JWKS)
    return Flows(
        authorize,
        ConsentCallback(authorize=authorize, verdicts=verdicts),
        sessions,
        consent,
        codes,
        flows,
    )


def challenge_claims(location: str) -> dict[str, Any]:
    """The (unverified) claims of the challenge in a redirect to the consent screen."""
    token = parse_qs(urlsplit(location).query)["challenge"][0]
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def verdict(
    claims_of_challenge: dict[str, Any],
    *,
    decision: str = "allow",
    key: OKPKey = CONSENT_KEY,
    age_s: int = 0,
    **overrides: Any,
) -> str:
    """Consent's signed answer to a challenge, as consent signs it."""
    now = int(time.time()) - age_s
    claims: dict[str, Any] = {
        "iss": CONSENT,
        "aud": claims_of_challenge["iss"],
        "sub": claims_of_challenge["sub"],
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 60,
        "challenge": claims_of_challenge["jti"],
        "nonce_sha256": claims_of_challenge["nonce_sha256"],
        "state": claims_of_challenge["state"],
        "decision": decision,
    }
    if decision == "allow":
        claims |= {
            "consent_id": "cn_test",
            "consent_version": 3,
            "scopes": claims_of_challenge["scopes"],
            "terms_version": "2026-01",
        }
    claims |= overrides
    header = {"alg": "Ed25519", "typ": VERDICT_TYP, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=["Ed25519"])
