"""The OAuth server's JWT keys and signers (joserfc): Ed25519 access tokens, RS256 ID tokens.

Access tokens (RFC 9068) are signed with Ed25519 (cheap to sign; only our own resource servers
verify them) by the keys of `AUTH_OAUTH_ACCESS_TOKEN_KEYS` (`shared/signing_keys.py`: base64
seeds, or a `dev-only-` phrase). ID tokens are signed RS256 (OpenID Connect's must-support alg,
so every client library validates them) by the RSA keys of `AUTH_OAUTH_ID_TOKEN_KEYS`: PEM
private keys, or `dev-only-` phrases from which a 2048-bit key is derived deterministically
(same phrase, same key, in every process; refused outside development by the settings). In
both, the first key signs and every key is published at `/oauth/jwks.json`, kid = RFC 7638
thumbprint, so a rotation adds the new key last, waits a JWKS refresh, then moves it first.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import random
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey, RSAKey

from shared.settings import DEV_SECRET_PREFIX
from shared.signing_keys import keys_from_setting

ED25519 = "Ed25519"
RS256 = "RS256"
MAX_TOKEN_CHARS = 8192
_PEM_END = "-----END"


class Ed25519Codec:
    """Signs access tokens with the first key; verifies with any configured key by kid."""

    def __init__(self, *, seeds: str) -> None:
        self._keys: list[OKPKey] = keys_from_setting(seeds)
        self._by_kid = {key.kid: key for key in self._keys if key.kid}

    def sign(self, claims: dict[str, Any], *, typ: str) -> str:
        """A compact JWS of the claims, header `alg` Ed25519, `typ`, `kid`."""
        key = self._keys[0]
        header = {"alg": ED25519, "typ": typ, "kid": key.kid}
        payload = json.dumps(claims, separators=(",", ":"))
        return jws.serialize_compact(header, payload, key, algorithms=[ED25519])

    def verified_claims(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(header, claims) if one of our keys signed it with Ed25519; ValueError otherwise."""
        header = unverified_header(token)
        if header.get("alg") != ED25519:  # `none`, HS256 with our public key, RS256: refused
            raise ValueError("token rejected: unexpected alg")
        key = self._by_kid.get(str(header.get("kid", "")))
        if key is None:
            raise ValueError("token rejected: unknown kid")
        try:
            signed = jws.deserialize_compact(token, key, algorithms=[ED25519])
            claims = json.loads(signed.payload)
        except (JoseError, ValueError, TypeError, RecursionError) as exc:
            raise ValueError("token rejected: bad signature or payload") from exc
        if not isinstance(claims, dict):
            raise ValueError("token rejected: claims are not an object")
        return header, claims

    def jwks(self) -> list[dict[str, Any]]:
        """The public JWKs of every key."""
        return [
            {**key.as_dict(private=False), "kid": key.kid, "use": "sig", "alg": ED25519}
            for key in self._keys
        ]


class Rs256Signer:
    """Signs ID tokens RS256 with the first RSA key; publishes every key's public half."""

    def __init__(self, *, keys: str) -> None:
        self._keys = rsa_keys_from_setting(keys)

    def sign(self, claims: dict[str, Any], *, typ: str) -> str:
        """A compact JWS of the claims, header `alg` RS256, `typ`, `kid`."""
        key = self._keys[0]
        header = {"alg": RS256, "typ": typ, "kid": key.kid}
        payload = json.dumps(claims, separators=(",", ":"))
        return jws.serialize_compact(header, payload, key, algorithms=[RS256])

    def jwks(self) -> list[dict[str, Any]]:
        """The public JWKs of every key."""
        return [
            {**key.as_dict(private=False), "kid": key.kid, "use": "sig", "alg": RS256}
            for key in self._keys
        ]


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWS (to pick the key); ValueError when unreadable."""
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise ValueError("token rejected: not a compact JWS")
    part = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, RecursionError) as exc:
        raise ValueError("token rejected: unreadable header") from exc
    if not isinstance(header, dict):
        raise ValueError("token rejected: header is not an object")
    return header


def rsa_keys_from_setting(value: str) -> list[RSAKey]:
    """Every RSA key of the setting (PEMs or `dev-only-` phrases, comma separated), first
    signs; each with its RFC 7638 thumbprint as kid."""
    keys = [_rsa_key(part.strip()) for part in _entries(value)]
    if not keys:
        raise ValueError("configure at least one ID-token key")
    return keys


def _entries(value: str) -> list[str]:
    # A PEM's base64 body has no comma, so commas separate keys in both forms.
    return [part for part in value.split(",") if part.strip()]


def _rsa_key(text: str) -> RSAKey:
    if text.startswith(DEV_SECRET_PREFIX):
        private = _dev_rsa_key(text)
    elif _PEM_END in text:
        loaded = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey) or loaded.key_size < 2048:
            raise ValueError("an ID-token key is an RSA private key of at least 2048 bits")
        private = loaded
    else:
        raise ValueError("an ID-token key is a PEM RSA private key (or a dev-only- phrase)")
    key = RSAKey.import_key(private)
    return RSAKey.import_key(private, {"kid": key.thumbprint()})


@functools.cache
def _dev_rsa_key(phrase: str) -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key derived from the phrase (development only): the same everywhere."""
    rng = random.Random(hashlib.sha256(phrase.encode()).digest())
    e = 65537
    while True:
        p, q = _prime(rng, bits=1024, e=e), _prime(rng, bits=1024, e=e)
        if p != q:
            break
    n, phi = p * q, (p - 1) * (q - 1)
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(e=e, n=n),
    )
    return numbers.private_key()


_SMALL_PRIMES = [n for n in range(3, 2000, 2) if all(n % d for d in range(3, int(n**0.5) + 1, 2))]


def _prime(rng: random.Random, *, bits: int, e: int) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if any(candidate % s == 0 for s in _SMALL_PRIMES):
            continue
        if (candidate - 1) % e and _probably_prime(candidate, rng):
            return candidate


def _probably_prime(n: int, rng: random.Random, rounds: int = 40) -> bool:
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True
