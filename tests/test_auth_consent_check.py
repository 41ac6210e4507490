"""Auth's consent check adapter against the REAL consent service on a live port.

Auth signs its calls with its service tokens (its platform keys, the JWKS it publishes at
`/.well-known/jwks.json`); consent is configured with that JWKS as caller `auth`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from consent_live import LiveConsent, live_consent
from joserfc import jwt
from joserfc.jwk import KeySet

from auth.adapters.http_consent import HttpConsentCheck
from auth.adapters.jose_service_tokens import ServiceTokenSigner
from auth.adapters.jose_user_tokens import UserTokenSigner
from auth.domain.grants import ConsentUnavailable
from kits_browser import free_socket
from kits_testing import Servers
from shared.jwks import JwksKeys
from shared.service_tokens import ServiceTokenVerifier

pytestmark = pytest.mark.integration
AUTH_KEYS = "dev-only-auth-consent-check-key"
SCOPES = ("user.info.basic", "video.list")


def auth_jwks(seeds: str = AUTH_KEYS) -> str:
    """What auth publishes at /.well-known/jwks.json for these platform keys."""
    signer = UserTokenSigner(seeds=seeds, issuer="https://auth.test", audience="x", ttl_s=60)
    return json.dumps(signer.jwks())


@pytest.fixture(scope="module")
async def consent(servers: Servers) -> AsyncIterator[LiveConsent]:
    async with live_consent(servers, service_callers={"auth": {"jwks": auth_jwks()}}) as live:
        yield live


@pytest.fixture
async def check(consent: LiveConsent) -> AsyncIterator[HttpConsentCheck]:
    adapter = HttpConsentCheck(
        base_url=consent.url, tokens=ServiceTokenSigner(seeds=AUTH_KEYS), timeout_s=5
    )
    yield adapter
    await adapter.aclose()


def new_ids() -> tuple[str, str]:
    return f"uk_{uuid.uuid4().hex[:16]}", f"app_{uuid.uuid4().hex[:10]}"


async def test_a_granted_consent_is_covered_then_refused_once_revoked(
    consent: LiveConsent, check: HttpConsentCheck
) -> None:
    user_key, app_id = new_ids()
    await consent.register(app_id)
    before = await check.check(user_key=user_key, app_id=app_id, scopes=SCOPES)
    assert (before.allowed, before.reason) == (False, "no_consent")
    consent_id = await consent.grant(user_key, app_id, SCOPES)
    covered = await check.check(user_key=user_key, app_id=app_id, scopes=SCOPES)
    assert covered.allowed
    assert covered.reason == "covered"
    assert covered.consent_id == consent_id
    assert covered.version == 1
    assert covered.terms_version == "t1"
    wider = await check.check(user_key=user_key, app_id=app_id, scopes=(*SCOPES, "sound.share"))
    assert (wider.allowed, wider.reason) == (False, "scope_not_granted")
    await consent.revoke(user_key, consent_id)
    # The very next check after the revoke call returned refuses (no sleep in between).
    revoked = await check.check(user_key=user_key, app_id=app_id, scopes=SCOPES)
    assert (revoked.allowed, revoked.reason) == (False, "revoked")
    assert revoked.consent_id is None


async def test_an_app_consent_never_saw_is_not_allowed(check: HttpConsentCheck) -> None:
    user_key, app_id = new_ids()
    answer = await check.check(user_key=user_key, app_id=app_id, scopes=SCOPES)
    assert not answer.allowed
    assert answer.reason in ("no_consent", "unknown_app")


async def test_a_token_consent_does_not_trust_is_a_401_mapped_to_unavailable_and_logged(
    consent: LiveConsent, caplog: pytest.LogCaptureFixture
) -> None:
    # Signed with keys consent was not told about: consent answers 401.
    stranger = HttpConsentCheck(
        base_url=consent.url, tokens=ServiceTokenSigner(seeds="dev-only-not-auths-key")
    )
    user_key, app_id = new_ids()
    try:
        with (
            caplog.at_level(logging.ERROR, logger="auth.adapters.http_consent"),
            pytest.raises(ConsentUnavailable, match="service token"),
        ):
            await stranger.check(user_key=user_key, app_id=app_id, scopes=SCOPES)
    finally:
        await stranger.aclose()
    assert any("401" in r.getMessage() for r in caplog.records)


async def test_no_service_token_is_a_401_from_consent(consent: LiveConsent) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=consent.url) as http:
        answer = await http.post(
            "/v1/checks", json={"user_key": "uk_1", "app_id": "app_1", "scopes": ["video.list"]}
        )
    assert answer.status_code == 401


async def test_consent_down_is_unavailable() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    adapter = HttpConsentCheck(
        base_url=f"http://127.0.0.1:{port}", tokens=ServiceTokenSigner(seeds=AUTH_KEYS)
    )
    try:
        with pytest.raises(ConsentUnavailable, match="did not answer"):
            await adapter.check(user_key="uk_1", app_id="app_1", scopes=SCOPES)
    finally:
        await adapter.aclose()


async def test_consent_that_never_answers_times_out_within_the_deadline() -> None:
    sock = free_socket()
    sock.listen(8)  # accepts connections (the kernel does), never reads or answers
    adapter = HttpConsentCheck(
        base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
        tokens=ServiceTokenSigner(seeds=AUTH_KEYS),
        timeout_s=0.5,
    )
    started = time.monotonic()
    try:
        with pytest.raises(ConsentUnavailable):
            await adapter.check(user_key="uk_1", app_id="app_1", scopes=SCOPES)
    finally:
        await adapter.aclose()
        sock.close()
    assert time.monotonic() - started < 1.5


async def test_service_tokens_verify_with_the_published_jwks_and_are_cached() -> None:
    now = [1_000_000.0]
    signer = ServiceTokenSigner(seeds=AUTH_KEYS, clock=lambda: now[0])
    first = signer.token("consent")
    assert signer.token("consent") == first  # cached
    assert signer.token("audit") != first  # one per audience
    header = jwt.decode(
        first, KeySet.import_key_set(json.loads(auth_jwks())), algorithms=["Ed25519"]
    ).header
    assert header["typ"] == "kits-service+jwt"
    assert header["kid"] == json.loads(auth_jwks())["keys"][0]["kid"]
    now[0] += 61  # within a minute of its expiry (120 s): a fresh one
    assert signer.token("consent") != first


async def test_service_tokens_pass_the_shared_verifier() -> None:
    verifier = ServiceTokenVerifier(
        audience="consent", callers={"auth": JwksKeys(jwks=auth_jwks())}
    )
    assert await verifier.caller(ServiceTokenSigner(seeds=AUTH_KEYS).token("consent")) == "auth"
    claims: Any = jwt.decode(
        ServiceTokenSigner(seeds=AUTH_KEYS).token("consent"),
        KeySet.import_key_set(json.loads(auth_jwks())),
        algorithms=["Ed25519"],
    ).claims
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("auth", "auth", "consent")
    assert claims["exp"] - claims["iat"] <= 300
    await asyncio.sleep(0)
