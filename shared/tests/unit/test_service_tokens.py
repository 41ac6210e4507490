"""The service-token verifier (calls between services) with inline JWKS per caller."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey

from shared.jwks import JwksKeys
from shared.service_tokens import SERVICE_TOKEN_TYP, InvalidServiceToken, ServiceTokenVerifier
from shared.user_tokens import USER_TOKEN_TYP

AUTH = OKPKey.generate_key("Ed25519", parameters={"kid": "auth-1"})
SOUND = OKPKey.generate_key("Ed25519", parameters={"kid": "sound-1"})


def keys(key: OKPKey) -> JwksKeys:
    return JwksKeys(jwks=json.dumps({"keys": [key.as_dict(private=False)]}))


VERIFIER = ServiceTokenVerifier(
    audience="consent", callers={"auth": keys(AUTH), "sound": keys(SOUND)}
)


def token(
    caller: str = "auth",
    *,
    key: OKPKey = AUTH,
    typ: str = SERVICE_TOKEN_TYP,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {"iss": caller, "sub": caller, "aud": "consent", "iat": now, "exp": now + 60}
    head = {"alg": "Ed25519", "typ": typ, "kid": key.kid, **(header or {})}
    return jwt.encode(head, {**payload, **claims}, key, algorithms=["Ed25519"])


async def test_each_caller_is_verified_with_its_own_keys() -> None:
    assert await VERIFIER.caller(token()) == "auth"
    assert await VERIFIER.caller(token("sound", key=SOUND)) == "sound"
    assert await VERIFIER.caller(token(typ="application/kits-service+jwt")) == "auth"
    assert await VERIFIER.caller(token(aud=["consent", "audit"])) == "auth"


BAD: dict[str, Callable[[], str]] = {
    "a user token's typ": lambda: token(typ=USER_TOKEN_TYP),
    "no typ": lambda: token(typ=""),
    "another algorithm named": lambda: _with_header({"alg": "EdDSA"}),
    "auth's name, sound's key": lambda: token("auth", key=SOUND, header={"kid": "auth-1"}),
    "sound's name, auth's key": lambda: token("sound", key=AUTH, header={"kid": "sound-1"}),
    "an unknown caller": lambda: token("evil"),
    "sub is another service": lambda: token(sub="sound"),
    "no sub": lambda: token(sub=None),
    "for another service": lambda: token(aud="audit"),
    "expired": lambda: token(iat=int(time.time()) - 600, exp=int(time.time()) - 300),
    "no iat": lambda: token(iat=None),
    "lives over 300 s": lambda: token(exp=int(time.time()) + 3600),
    "unknown kid": lambda: token(header={"kid": "auth-9"}),
    "not a JWS": lambda: "a.b",
    "garbage claims": lambda: token().split(".")[0] + ".e30x.sig",
}


def _with_header(changes: dict[str, Any]) -> str:
    """A good token whose header says something else (its signature no longer matters)."""
    good = token()
    header = {"alg": "Ed25519", "typ": SERVICE_TOKEN_TYP, "kid": AUTH.kid, **changes}
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return encoded + good[good.index(".") :]


@pytest.mark.parametrize("case", sorted(BAD))
async def test_anything_else_is_invalid(case: str) -> None:
    with pytest.raises(InvalidServiceToken):
        await VERIFIER.caller(BAD[case]())


async def test_no_callers_means_every_token_is_refused() -> None:
    alone = ServiceTokenVerifier(audience="consent", callers={})
    with pytest.raises(InvalidServiceToken, match="not from a known caller"):
        await alone.caller(token())


class CountedKeys(JwksKeys):
    """A caller's keys that count how often a signature check needed them."""

    def __init__(self, key: OKPKey) -> None:
        super().__init__(jwks=json.dumps({"keys": [key.as_dict(private=False)]}))
        self.looked_up = 0

    async def key(self, kid: str) -> Any:
        self.looked_up += 1
        return await super().key(kid)


async def test_a_verified_token_is_remembered_until_its_own_exp() -> None:
    now = [time.time()]
    counted = CountedKeys(AUTH)
    verifier = ServiceTokenVerifier(
        audience="consent", callers={"auth": counted}, clock=lambda: now[0]
    )
    reused = token(exp=int(now[0]) + 60)
    for _ in range(5):
        assert await verifier.caller(reused) == "auth"
    assert counted.looked_up == 1  # checked once, then remembered
    now[0] += 61  # past its exp by this verifier's clock: no longer taken from memory
    await verifier.caller(reused)  # (the full check's clock is the real one: still valid there)
    assert counted.looked_up == 2


async def test_a_refused_token_is_never_remembered() -> None:
    counted = CountedKeys(AUTH)
    verifier = ServiceTokenVerifier(audience="consent", callers={"auth": counted})
    forged = token("auth", key=SOUND, header={"kid": "auth-1"})
    for _ in range(3):
        with pytest.raises(InvalidServiceToken):
            await verifier.caller(forged)
    assert counted.looked_up == 3


async def test_the_memory_stays_bounded() -> None:
    from shared import service_tokens

    verifier = ServiceTokenVerifier(audience="consent", callers={"auth": keys(AUTH)})
    for n in range(service_tokens.REMEMBERED + 10):
        assert await verifier.caller(token(jti=f"t-{n}")) == "auth"
    assert len(verifier._verified) <= service_tokens.REMEMBERED
