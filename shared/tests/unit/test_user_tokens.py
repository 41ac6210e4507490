"""The platform user-token verifier with an in-memory (inline) JWKS, and its settings."""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jws, jwt
from joserfc.jwk import OctKey, OKPKey
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from shared.settings import DEV_USER_TOKEN_ISSUER, UserTokenSettings
from shared.user_tokens import (
    LEEWAY_S,
    USER_TOKEN_TYP,
    InvalidUserToken,
    UnusableJwks,
    UserTokenVerifier,
    import_jwks,
    key_id_of,
)

ISSUER, AUDIENCE = "https://auth.example", "kits-platform"
KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "k1"})
STRANGER = OKPKey.generate_key("Ed25519", parameters={"kid": "k1"})


def jwks_of(*keys: OKPKey) -> str:
    return json.dumps({"keys": [k.as_dict(private=False) for k in keys]})


def token(
    *,
    key: OKPKey = KEY,
    header: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "uk_alice", "iat": now, "exp": now + 300}
    payload = {k: v for k, v in {**payload, **claims}.items() if k not in drop}
    head = {"alg": "Ed25519", "typ": USER_TOKEN_TYP, "kid": key.kid, **(header or {})}
    head = {k: v for k, v in head.items() if v is not None}  # None: leave the member out
    with warnings.catch_warnings():  # joserfc warns that EdDSA is deprecated (RFC 9864)
        warnings.simplefilter("ignore")
        return jwt.encode(head, payload, key, algorithms=["Ed25519", "EdDSA"])


def signed(payload: bytes) -> str:
    header = {"alg": "Ed25519", "typ": USER_TOKEN_TYP, "kid": KEY.kid}
    return jws.serialize_compact(header, payload, KEY, algorithms=["Ed25519"])


def b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


@pytest.fixture
def verifier() -> UserTokenVerifier:
    return UserTokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=jwks_of(KEY))


async def test_a_good_token_gives_its_subject(verifier: UserTokenVerifier) -> None:
    assert await verifier.user_key(token()) == "uk_alice"
    media_type = {"typ": f"application/{USER_TOKEN_TYP}"}
    assert await verifier.user_key(token(header=media_type)) == "uk_alice"
    assert await verifier.user_key(token(aud=["other", AUDIENCE])) == "uk_alice"
    assert await verifier.user_key(token(exp=int(time.time()) - LEEWAY_S + 5)) == "uk_alice"


def _hs256_with_the_public_key() -> str:
    x = str(KEY.as_dict()["x"])
    secret = OctKey.import_key(base64.urlsafe_b64decode(x + "=="))
    header = {"alg": "HS256", "typ": USER_TOKEN_TYP, "kid": "k1"}
    return jwt.encode(header, {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": 2**40}, secret)


# Built when the test runs, so a long session cannot let a token expire into another fault.
BAD_TOKENS: dict[str, Callable[[], str]] = {
    "empty": lambda: "",
    "garbage": lambda: "not-a-token",
    "three dots": lambda: "...",
    "two parts": lambda: "a.b",
    "four parts": lambda: f"{token()}.x",
    "header not base64": lambda: f"!!!.{token().split('.', 1)[1]}",
    "header not JSON": lambda: f"{b64('x')[:-1]}x.e30.c2ln",
    "header a list": lambda: f"{b64([1])}.e30.c2ln",
    "header nested deeply": lambda: f"{base64.urlsafe_b64encode(b'[' * 5000).decode()}.e30.c2ln",
    "too long": lambda: "a" * 9000,
    "alg none": lambda: (
        f"{b64({'alg': 'none', 'typ': USER_TOKEN_TYP, 'kid': 'k1'})}.{b64({'sub': 'x'})}."
    ),
    "alg EdDSA": lambda: token(header={"alg": "EdDSA"}),
    "alg HS256 keyed with the public key": lambda: _hs256_with_the_public_key(),
    "no typ": lambda: token(header={"typ": None}),
    "typ JWT": lambda: token(header={"typ": "JWT"}),
    "typ at+jwt": lambda: token(header={"typ": "at+jwt"}),
    "no kid": lambda: token(header={"kid": None}),
    "unknown kid": lambda: token(header={"kid": "k9"}),
    "signed by someone else": lambda: token(key=STRANGER),
    "payload tampered": lambda: ".".join(
        [
            token().split(".")[0],
            b64({"iss": ISSUER, "aud": AUDIENCE, "sub": "uk_bob", "exp": 2**40}),
            token().split(".")[2],
        ]
    ),
    "signed payload a list": lambda: signed(b"[1]"),
    "signed payload not JSON": lambda: signed(b"\xff\xfe"),
    "signed payload nested deeply": lambda: signed(b"[" * 3000),
    "no iss": lambda: token(drop=("iss",)),
    "no aud": lambda: token(drop=("aud",)),
    "no exp": lambda: token(drop=("exp",)),
    "no sub": lambda: token(drop=("sub",)),
    "wrong iss": lambda: token(iss="https://evil.example"),
    "wrong aud": lambda: token(aud="third-party-app"),
    "expired": lambda: token(exp=int(time.time()) - LEEWAY_S - 5),
    "not yet valid": lambda: token(nbf=int(time.time()) + LEEWAY_S + 60),
    "exp not a number": lambda: token(exp="tomorrow"),
    "sub not a string": lambda: token(sub=42),
    "sub empty": lambda: token(sub=""),
    "sub too long": lambda: token(sub="u" * 300),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_every_bad_token_is_invalid_never_another_error(
    verifier: UserTokenVerifier, case: str
) -> None:
    with pytest.raises(InvalidUserToken):
        await verifier.user_key(BAD_TOKENS[case]())


def test_a_well_formed_header_is_told_from_a_malformed_one() -> None:
    assert key_id_of(token()) == "k1"
    for case in ("garbage", "header nested deeply", "alg none", "typ JWT", "no kid"):
        with pytest.raises(InvalidUserToken):
            key_id_of(BAD_TOKENS[case]())


def test_the_jwks_gives_public_ed25519_signing_keys_only() -> None:
    rsa_like = {"kty": "RSA", "kid": "r1", "n": "AQAB", "e": "AQAB"}
    encryption = {**KEY.as_dict(private=False), "kid": "enc", "use": "enc"}
    broken = {"kty": "OKP", "crv": "Ed25519", "kid": "bad", "x": "!!"}
    keys = import_jwks({"keys": [KEY.as_dict(private=True), rsa_like, encryption, broken, 7]})
    assert set(keys) == {"k1"}
    assert not keys["k1"].is_private  # a published "d" is never used
    unusable: object
    for unusable in ({"keys": [rsa_like]}, {"keys": "x"}, {"nokeys": 1}, [], None, "x"):
        with pytest.raises(UnusableJwks):
            import_jwks(unusable)


def test_construction_refuses_what_cannot_be_trusted() -> None:
    with pytest.raises(ValueError, match="either"):
        UserTokenVerifier(issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(ValueError, match="either"):
        UserTokenVerifier(
            issuer=ISSUER, audience=AUDIENCE, jwks=jwks_of(KEY), jwks_url="https://a.example/j"
        )
    with pytest.raises(ValueError, match="inline user-token JWKS is unusable"):
        UserTokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks="{not json")
    for url in ("http://127.0.0.1:8001/jwks", "http://auth.example/jwks", "ftp://a/b", "/jwks"):
        with pytest.raises(ValueError, match="https only"):
            UserTokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=url)
    for url in ("http://auth.example/jwks", "http://10.0.0.5/jwks", "http://[2001:db8::1]/j"):
        with pytest.raises(ValueError, match="loopback in development"):
            UserTokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=url, development=True)
    for url in (
        "http://127.0.0.1:8001/jwks",
        "http://localhost/j",
        "http://[::1]/j",
        "http://auth:8001/j",
    ):
        UserTokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=url, development=True)
    UserTokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url="https://auth.example/jwks")


class _Settings(UserTokenSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore", frozen=True)


def test_settings_refuse_the_development_issuer_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "production")
    assert not _Settings().user_tokens_configured  # no keys: no user token is accepted at all
    monkeypatch.setenv("DEMO_USER_TOKEN_JWKS_URL", "https://auth.example/jwks")
    with pytest.raises(
        ValidationError, match="user_token_issuer still has its development default"
    ):
        _Settings()
    monkeypatch.setenv("DEMO_USER_TOKEN_ISSUER", "http://auth.example")
    with pytest.raises(ValidationError, match="user_token_issuer must be an absolute https only"):
        _Settings()
    monkeypatch.setenv("DEMO_USER_TOKEN_ISSUER", "https://auth.example")
    settings = _Settings()
    assert UserTokenVerifier.from_settings(settings) is not None
    monkeypatch.setenv("DEMO_USER_TOKEN_JWKS_URL", "http://127.0.0.1:8001/jwks")
    with pytest.raises(ValidationError, match="user_token_jwks_url must be an absolute https"):
        _Settings()
    monkeypatch.setenv("DEMO_ENVIRONMENT", "development")
    monkeypatch.setenv("DEMO_USER_TOKEN_ISSUER", DEV_USER_TOKEN_ISSUER)
    assert _Settings().user_token_jwks_url == "http://127.0.0.1:8001/jwks"
    monkeypatch.setenv("DEMO_USER_TOKEN_JWKS", jwks_of(KEY))
    with pytest.raises(ValidationError, match="not both"):
        _Settings()


async def test_nothing_configured_builds_no_verifier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "development")
    assert UserTokenVerifier.from_settings(_Settings()) is None
    monkeypatch.setenv("DEMO_USER_TOKEN_JWKS", jwks_of(KEY))
    monkeypatch.setenv("DEMO_USER_TOKEN_ISSUER", ISSUER)
    built = UserTokenVerifier.from_settings(_Settings())
    assert built is not None
    assert await built.user_key(token()) == "uk_alice"
