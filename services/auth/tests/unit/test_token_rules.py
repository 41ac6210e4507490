"""PKCE (RFC 7636), scope narrowing, audiences and the JWT keys of the OAuth server (pure)."""

from __future__ import annotations

import base64
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import KeySet

from auth.adapters.jose_oauth import Ed25519Codec, Rs256Signer
from auth.domain.pkce import is_s256_challenge, s256, verifier_matches
from auth.domain.token_rules import LOGIN_KIT, SOUND_KIT, audiences, narrowed, parse_scope

VERIFIER = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~",
    min_size=43,
    max_size=128,
)


def test_rfc7636_appendix_b_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert verifier_matches(verifier=verifier, challenge=s256(verifier))


@given(VERIFIER, VERIFIER)
def test_rfc7636_4_6_only_the_verifier_of_a_challenge_matches_it(one: str, other: str) -> None:
    challenge = s256(one)
    assert is_s256_challenge(challenge)
    assert verifier_matches(verifier=one, challenge=challenge)
    assert verifier_matches(verifier=other, challenge=challenge) == (one == other)
    assert (
        not verifier_matches(verifier=challenge, challenge=challenge)
        or s256(challenge) == challenge
    )


@pytest.mark.parametrize("bad", ["", "a" * 42, "a" * 129, "a" * 42 + " ", "é" * 43, "a" * 42 + "+"])
def test_rfc7636_4_1_verifier_syntax_refused(bad: str) -> None:
    assert not verifier_matches(verifier=bad, challenge=s256("a" * 43))


def test_rfc6749_6_refresh_scope_may_narrow_never_widen() -> None:
    granted = ("openid", "user.info.basic", "video.list")
    assert narrowed(granted=granted, requested=None) == granted
    assert narrowed(granted=granted, requested=("video.list",)) == ("video.list",)
    with pytest.raises(ValueError, match=r"sound\.upload"):
        narrowed(granted=granted, requested=("sound.upload", "video.list"))


@pytest.mark.parametrize(
    "bad", ["", " ", "a  b", "a\tb", 'a"b', "a\\b", "x" * 65, " ".join(["s"] * 51)]
)
def test_rfc6749_3_3_malformed_scope_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="scope"):
        parse_scope(bad)


def test_scopes_reach_their_resource_servers() -> None:
    assert audiences(["user.info.basic"]) == [LOGIN_KIT]
    assert audiences(["sound.share", "video.list"]) == [LOGIN_KIT, SOUND_KIT]
    assert audiences([]) == [LOGIN_KIT]


def test_access_token_keys_rotate_first_signs_all_verify() -> None:
    old, new = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    before = Ed25519Codec(seeds=old)
    token = before.sign({"a": 1}, typ="at+jwt")
    rotated = Ed25519Codec(seeds=f"{new},{old}")
    assert rotated.verified_claims(token)[1] == {"a": 1}
    assert (
        rotated.verified_claims(rotated.sign({"b": 2}, typ="at+jwt"))[0]["kid"]
        != (before.jwks()[0]["kid"])
    )
    assert len(rotated.jwks()) == 2
    with pytest.raises(ValueError, match="kid"):
        Ed25519Codec(seeds=new).verified_claims(token)


def test_id_token_dev_keys_are_deterministic_and_verify_with_the_published_jwks() -> None:
    one = Rs256Signer(keys="dev-only-a")
    assert Rs256Signer(keys="dev-only-a").jwks() == one.jwks()
    assert Rs256Signer(keys="dev-only-b").jwks() != one.jwks()
    token = one.sign({"sub": "x"}, typ="JWT")
    keys = KeySet.import_key_set({"keys": one.jwks()})
    assert jwt.decode(token, keys, algorithms=["RS256"]).claims == {"sub": "x"}
    assert all("d" not in key for key in one.jwks())


def test_id_token_keys_refuse_what_is_not_an_rsa_private_key() -> None:
    with pytest.raises(ValueError, match="PEM"):
        Rs256Signer(keys="not-a-key")
    with pytest.raises(ValueError, match="at least one"):
        Rs256Signer(keys=" , ")
