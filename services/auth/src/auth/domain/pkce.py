"""PKCE (RFC 7636) with the S256 method only: the one rule the token endpoint applies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

# RFC 7636 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
# An S256 challenge is base64url (no padding) of a SHA-256 digest: always 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def s256(verifier: str) -> str:
    """The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier)))."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_verifier(value: str) -> bool:
    """Whether `value` has a verifier's syntax (RFC 7636 4.1)."""
    return bool(_VERIFIER.fullmatch(value))


def is_s256_challenge(value: str) -> bool:
    """Whether `value` could be an S256 challenge (43 base64url characters)."""
    return bool(_CHALLENGE.fullmatch(value))


def verifier_matches(*, verifier: str, challenge: str) -> bool:
    """RFC 7636 4.6: the verifier's S256 equals the bound challenge (constant time)."""
    if not is_verifier(verifier):
        return False
    return hmac.compare_digest(s256(verifier), challenge)
