"""Rules of the tokens the OAuth server mints: audiences, scope narrowing, lifetimes, hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

LOGIN_KIT = "kits-login-kit"
SOUND_KIT = "kits-sound-kit"
OPENID = "openid"
ACCESS_TOKEN_TYP = "at+jwt"
ACCESS_TOKEN_TYPS = frozenset({"at+jwt", "application/at+jwt"})
CODE_TTL_MAX_S = 60
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,64}$")  # RFC 6749 3.3 scope-token
MAX_SCOPES = 50


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """How long each artefact lives, in seconds (README "Lifetimes")."""

    access_s: int = 900
    id_token_s: int = 900
    refresh_family_s: int = 30 * 86_400  # absolute: rotation never extends a family's life
    code_s: int = CODE_TTL_MAX_S


def audiences(scopes: Iterable[str]) -> list[str]:
    """The resource servers a token with these scopes reaches (sorted, never empty)."""
    found = {SOUND_KIT if s.startswith("sound.") else LOGIN_KIT for s in scopes}
    return sorted(found or {LOGIN_KIT})


def parse_scope(value: str) -> tuple[str, ...]:
    """A `scope` parameter as a sorted tuple; ValueError when malformed (RFC 6749 3.3)."""
    names = value.split(" ")
    if len(names) > MAX_SCOPES or any(not _SCOPE_TOKEN.fullmatch(n) for n in names):
        raise ValueError("scope must be space-separated scope tokens")
    return tuple(sorted(set(names)))


def narrowed(*, granted: tuple[str, ...], requested: tuple[str, ...] | None) -> tuple[str, ...]:
    """The scope of a refreshed token: the request's if within the grant; ValueError if wider
    (RFC 6749 6: a refresh may narrow, never widen)."""
    if requested is None:
        return granted
    extra = sorted(set(requested) - set(granted))
    if extra:
        raise ValueError(f"scope beyond the grant: {' '.join(extra)}")
    return requested


def sha256_hex(value: str) -> str:
    """The stored form of a code or refresh token (never the value itself)."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret_token(prefix: str) -> str:
    """An opaque random token (256 bits), prefixed so a leaked one is recognisable."""
    return f"{prefix}{secrets.token_urlsafe(32)}"


def new_id() -> str:
    """A random identifier (family ids, token ids)."""
    return secrets.token_hex(16)
