"""Verifies the platform's user session tokens, which auth signs, for every platform service.

What auth mints, and all this accepts (anything else is `InvalidUserToken`, a 401):
- a compact JWS whose header has `alg` "Ed25519" (RFC 9864's fully specified name, the only one),
  `typ` `USER_TOKEN_TYP` ("kits-user+jwt"; "application/kits-user+jwt" too, RFC 7515 4.1.9),
  and `kid` naming one key of auth's JWKS;
- claims `iss` (the configured issuer), `aud` (the configured audience, or a list holding it),
  `exp`, and `sub` (the internal user key); `nbf` and `iat` are checked when present; clocks may
  differ by `LEEWAY_S`.
The `typ` keeps auth's other JWTs (OAuth access tokens for apps, `at+jwt`) from passing as one.

Keys are inline (a static JWKS) or fetched from auth's JWKS URL (https outside development),
cached, and refetched when older than `refresh_s` or when a token names an unknown `kid`, but
never more than once per `min_refetch_s` (a flood of forged kids costs one fetch, not one each),
under one lock (concurrent requests wait for the same fetch). A failed refresh keeps the cached
keys, so auth being briefly away changes nothing. Only when keys were never fetched does a
well-formed token get `KeysUnavailable` (a 503); every failure of httpx, JSON, key import or
joserfc is mapped to one of these two, never left to escape.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from shared.settings import UserTokenSettings, check_key_url

USER_TOKEN_TYP = "kits-user+jwt"
ALGORITHM = "Ed25519"
LEEWAY_S = 30
MAX_TOKEN_CHARS = 8192
MAX_JWKS_BYTES = 256 * 1024
MAX_FIELD_CHARS = 200
log = logging.getLogger(__name__)
Keys = dict[str, OKPKey]


class InvalidUserToken(ValueError):
    """The token is malformed, not signed by auth's keys, expired or not for us: a 401."""


class KeysUnavailable(RuntimeError):
    """A well-formed token, but auth's keys were never fetched (auth unreachable): a 503."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UnusableJwks(ValueError):
    """Auth's JWKS could not be fetched or holds no usable Ed25519 key."""


def key_id_of(token: str, *, typ: str = USER_TOKEN_TYP) -> str:
    """The `kid` of a well-formed token's header (alg and typ checked), else InvalidUserToken."""
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidUserToken("token too long")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidUserToken("not a compact JWS")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, RecursionError) as exc:  # base64, UTF-8 and JSON errors are ValueErrors
        raise InvalidUserToken("unreadable token header") from exc
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        raise InvalidUserToken(f"token header must name alg {ALGORITHM}")
    named = header.get("typ")
    if not isinstance(named, str) or named.lower().removeprefix("application/") != typ:
        raise InvalidUserToken(f"token header must name typ {typ}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_FIELD_CHARS:
        raise InvalidUserToken("token header must name a kid")
    return kid


def import_jwks(document: Any) -> Keys:
    """The Ed25519 signing keys of a JWKS by kid (other keys are skipped, RFC 7517 5)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise UnusableJwks("not a JWKS (an object with a list of keys)")
    keys: Keys = {}
    for entry in document["keys"]:
        found = _signing_key(entry) if isinstance(entry, dict) else None
        if found is not None:
            keys[found[0]] = found[1]
    if not keys:
        raise UnusableJwks("the JWKS holds no usable Ed25519 signing key with a kid")
    return keys


def _signing_key(entry: dict[str, Any]) -> tuple[str, OKPKey] | None:
    public = {name: entry.get(name) for name in ("kty", "crv", "x", "kid")}  # never a "d"
    if (public["kty"], public["crv"]) != ("OKP", ALGORITHM) or entry.get("use", "sig") != "sig":
        return None
    if entry.get("alg", ALGORITHM) not in (ALGORITHM, "EdDSA"):
        return None
    kid, x = public["kid"], public["x"]
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_FIELD_CHARS or not isinstance(x, str):
        return None
    try:
        return kid, OKPKey.import_key({"kty": "OKP", "crv": ALGORITHM, "x": x, "kid": kid})
    except (JoseError, ValueError, TypeError) as exc:
        log.warning(
            "user-token key skipped: it does not import", extra={"kid": kid, "error": str(exc)}
        )
        return None


class UserTokenVerifier:
    """Checks a user token as the module docstring says; returns its `sub`, the user key."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: str = "",
        jwks_url: str = "",
        development: bool = False,
        refresh_s: float = 300.0,
        min_refetch_s: float = 10.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        typ: str = USER_TOKEN_TYP,
        required: tuple[str, ...] = (),
    ) -> None:
        if bool(jwks) == bool(jwks_url):
            raise ValueError("set either the inline user-token JWKS or the URL to fetch it from")
        self._url = (
            check_key_url(jwks_url, development=development, name="jwks_url") if jwks_url else ""
        )
        self._keys: Keys = _inline(jwks) if jwks else {}
        self._refresh_s, self._min_refetch_s, self._timeout_s = refresh_s, min_refetch_s, timeout_s
        self._clock = clock
        self._fetched_at: float | None = None  # last fetch that gave keys
        self._tried_at: float | None = None  # last fetch attempt, whatever its outcome
        self._lock = asyncio.Lock()
        self._claims = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_S,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
            **{name: {"essential": True} for name in required},  # type: ignore[arg-type]
        )
        self._typ = typ

    @classmethod
    def from_settings(cls, settings: UserTokenSettings) -> UserTokenVerifier | None:
        """The verifier the settings describe, or None when they configure no keys."""
        if not settings.user_tokens_configured:
            return None
        return cls(
            issuer=settings.user_token_issuer,
            audience=settings.user_token_audience,
            jwks=settings.user_token_jwks,
            jwks_url=settings.user_token_jwks_url,
            development=settings.environment == "development",
            refresh_s=settings.user_token_jwks_refresh_s,
            min_refetch_s=settings.user_token_jwks_min_refetch_s,
        )

    async def user_key(self, token: str) -> str:
        """The verified `sub` (internal user key); InvalidUserToken or KeysUnavailable."""
        return str((await self.claims(token))["sub"])

    async def claims(self, token: str) -> dict[str, Any]:
        """Every claim of a verified token (`sub` checked to be a user key); the same errors.

        Other signed statements of auth (the consent challenge) use it with their own `typ`
        and required claims."""
        kid = key_id_of(token, typ=self._typ)
        key = await self._key(kid)
        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
            self._claims.validate(decoded.claims)
        except JoseError as exc:
            raise InvalidUserToken(f"user token rejected: {exc.error}: {exc.description}") from exc
        except (ValueError, TypeError, RecursionError) as exc:
            raise InvalidUserToken(f"user token rejected: {type(exc).__name__}") from exc
        subject = decoded.claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_FIELD_CHARS:
            raise InvalidUserToken("user token rejected: sub is not a user key")
        return dict(decoded.claims)

    async def _key(self, kid: str) -> OKPKey:
        if self._url:
            if self._stale():
                await self._refresh()
            if kid not in self._keys:
                await self._refresh()  # auth may have rotated its keys; rate-limited
            if not self._keys:
                retry = math.ceil(self._min_refetch_s)
                raise KeysUnavailable(
                    "auth's user-token keys could not be fetched yet", retry_after_s=retry
                )
        key = self._keys.get(kid)
        if key is None:
            raise InvalidUserToken("user token rejected: unknown kid")
        return key

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._refresh_s

    async def _refresh(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._tried_at is not None and now - self._tried_at < self._min_refetch_s:
                return  # tried just now, perhaps by the request this one waited for
            self._tried_at = now
            try:
                keys = await self._fetch()
            except UnusableJwks as exc:
                log.warning(
                    "user-token keys not refreshed; keeping %d cached",
                    len(self._keys),
                    extra={"jwks_url": self._url, "error": str(exc)},
                )
                return
            self._keys, self._fetched_at = keys, self._clock()

    async def _fetch(self) -> Keys:
        body = bytearray()
        try:
            async with (
                httpx.AsyncClient(timeout=self._timeout_s) as client,
                client.stream("GET", self._url, headers={"Accept": "application/json"}) as response,
            ):
                if response.status_code != httpx.codes.OK:
                    raise UnusableJwks(f"JWKS answered HTTP {response.status_code}")
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise UnusableJwks(f"JWKS larger than {MAX_JWKS_BYTES} bytes")
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError) as exc:
            raise UnusableJwks(f"JWKS not fetched: {type(exc).__name__}: {exc}") from exc
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise UnusableJwks("JWKS is not JSON") from exc
        return import_jwks(document)


def _inline(jwks: str) -> Keys:
    try:
        return import_jwks(json.loads(jwks))
    except (ValueError, RecursionError) as exc:  # UnusableJwks and JSONDecodeError included
        raise ValueError(f"the inline user-token JWKS is unusable: {exc}") from exc
