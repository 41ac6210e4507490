"""Production refuses development defaults; development-only routes exist only there."""

from __future__ import annotations

import base64
import os
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from auth.config import AuthSettings
from auth.main import create_app

SECRET = "s" * 40
RSA_PEM = (
    rsa.generate_private_key(public_exponent=65537, key_size=2048)
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    .decode()
)
PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "issuer": "https://auth.example.com",
    "lookup_keys": f"lk1={SECRET}",
    "otp_key": SECRET + "otp",
    "pairwise_secret": SECRET + "pairwise",
    "user_token_keys": base64.b64encode(os.urandom(32)).decode(),
    "oauth_access_token_keys": base64.b64encode(os.urandom(32)).decode(),
    "oauth_id_token_keys": RSA_PEM,
    "sms_sender": "twilio",
    "twilio_account_sid": "AC" + "f" * 32,
    "twilio_auth_token": "token",
    "twilio_from": "+15005550006",
    "mongodb_url": "mongodb://127.0.0.1:1/",
    "kafka_bootstrap_servers": "127.0.0.1:1",
    "consent_url": "https://consent.example.com",
    "consent_jwks_url": "https://consent.example.com/.well-known/jwks.json",
    "consent_issuer": "https://consent.example.com",
    "audit_url": "https://audit.example.com",
}


def test_a_complete_production_configuration_is_accepted() -> None:
    assert not AuthSettings(**PRODUCTION).development


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"lookup_keys": "lk1=dev-only-lookup-key-1"}, "lookup key lk1"),
        ({"lookup_keys": "lk1=short"}, "at least 32"),
        ({"otp_key": "dev-only-otp-key"}, "otp_key"),
        ({"pairwise_secret": "dev-only-pairwise-secret"}, "pairwise_secret"),
        ({"user_token_keys": "dev-only-user-token-key-1"}, "user_token_keys"),
        ({"oauth_access_token_keys": "dev-only-oauth-access-token-key-1"}, "development"),
        ({"oauth_id_token_keys": f"{RSA_PEM},dev-only-x"}, "oauth_id_token_keys"),
        ({"oauth_code_ttl_s": 61}, "oauth_code_ttl_s"),
        ({"service_callers": {"sound": {"jwks_url": "http://sound/jwks"}}}, "https"),
        ({"sms_sender": "development"}, "development only"),
        ({"session_cookie_secure": False}, "Secure"),
        ({"issuer": "http://127.0.0.1:8001"}, "issuer"),
        ({"issuer": "http://auth.example.com"}, "https"),
        ({"lookup_key_id": "lk9"}, "not in lookup_keys"),
        ({"lookup_keys": "no-equals-sign"}, "id=secret"),
        ({"start_limits_number": "60"}, "seconds:count"),
        ({"consent_url": "http://127.0.0.1:8002"}, "consent_url"),
        ({"consent_api_url": "http://consent.internal:8002"}, "consent_api_url"),
        ({"consent_jwks_url": "http://127.0.0.1:8002/.well-known/jwks.json"}, "consent_jwks_url"),
        ({"consent_issuer": "http://127.0.0.1:8002"}, "consent_issuer"),
        ({"audit_url": "http://127.0.0.1:8004"}, "audit_url"),
        ({"audit_api_url": "http://audit.internal:8004"}, "audit_api_url"),
    ],
)
def test_production_refuses_development_defaults_and_bad_values(
    override: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        AuthSettings(**{**PRODUCTION, **override})


async def test_the_development_code_reader_is_a_404_outside_development() -> None:
    app = create_app(AuthSettings(**PRODUCTION))  # routes only: nothing connects
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://auth.example.com"
    ) as client:
        answer = await client.post("/dev/sms/last-code", json={"phone": "+12015550123"})
    assert answer.status_code == 404
    assert "/dev/sms/last-code" not in app.openapi()["paths"]
