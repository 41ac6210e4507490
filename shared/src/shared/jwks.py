"""A cache of one issuer's Ed25519 signing keys (a JWKS, inline or fetched), for token verifiers.

Keys are inline (a static JWKS) or fetched from a JWKS URL (https outside development), cached,
and refetched when older than `refresh_s` or when a token names an unknown `kid`, but never more
than once per `min_refetch_s` (a flood of forged kids costs one fetch, not one each), under one
lock (concurrent requests wait for the same fetch). A failed refresh keeps the cached keys, so
the issuer being briefly away changes nothing. Only when keys were never fetched does a lookup
raise `KeysUnavailable` (a 503); an unknown kid is `UnknownKey` (the verifier's 401).
Used by `shared.user_tokens` (auth's user tokens) and `shared.service_tokens` (callers' tokens).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from shared.settings import check_key_url

ALGORITHM = "Ed25519"
MAX_JWKS_BYTES = 256 * 1024
MAX_FIELD_CHARS = 200
log = logging.getLogger(__name__)
Keys = dict[str, OKPKey]


class KeysUnavailable(RuntimeError):
    """A well-formed token, but the issuer's keys were never fetched (unreachable): a 503."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UnknownKey(LookupError):
    """No key of the issuer has this kid (after a refetch, if one was due)."""


class UnusableJwks(ValueError):
    """A JWKS could not be fetched or holds no usable Ed25519 key."""


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
        log.warning("token key skipped: it does not import", extra={"kid": kid, "error": str(exc)})
        return None


def inline_keys(jwks: str) -> Keys:
    """The keys of an inline JWKS (JSON text); ValueError naming why it is unusable."""
    try:
        return import_jwks(json.loads(jwks))
    except (ValueError, RecursionError) as exc:  # UnusableJwks and JSONDecodeError included
        raise ValueError(f"the inline JWKS is unusable: {exc}") from exc


class JwksKeys:
    """One issuer's keys, as the module docstring says."""

    def __init__(
        self,
        *,
        jwks: str = "",
        jwks_url: str = "",
        development: bool = False,
        refresh_s: float = 300.0,
        min_refetch_s: float = 10.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if bool(jwks) == bool(jwks_url):
            raise ValueError("set either the inline JWKS or the URL to fetch it from")
        self._url = (
            check_key_url(jwks_url, development=development, name="jwks_url") if jwks_url else ""
        )
        self._keys: Keys = inline_keys(jwks) if jwks else {}
        self._refresh_s, self._min_refetch_s, self._timeout_s = refresh_s, min_refetch_s, timeout_s
        self._clock = clock
        self._fetched_at: float | None = None  # last fetch that gave keys
        self._tried_at: float | None = None  # last fetch attempt, whatever its outcome
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> OKPKey:
        """The key named `kid`; UnknownKey, or KeysUnavailable while none was ever fetched."""
        if self._url:
            if self._stale():
                await self._refresh()
            if kid not in self._keys:
                await self._refresh()  # the issuer may have rotated its keys; rate-limited
            if not self._keys:
                retry = math.ceil(self._min_refetch_s)
                raise KeysUnavailable(
                    "the issuer's keys could not be fetched yet", retry_after_s=retry
                )
        key = self._keys.get(kid)
        if key is None:
            raise UnknownKey("unknown kid")
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
                    "token keys not refreshed; keeping %d cached",
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
