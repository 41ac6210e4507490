"""Auth's resolve (`POST {auth}/internal/v1/access-tokens/resolve`, auth README "Resolve
hand-over for sound") and consent's check (`POST {consent}/v1/checks`, consent README "The
check"), over one pooled httpx client each, signed with sound's service tokens.

Fail closed: a timeout, a connection error, a non-200 or an answer not of the documented shape
raises `Unavailable` (a 503 to the app); only a readable `active: true` / `allowed: true` lets
a call through.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from sound.adapters.jose_service_tokens import ServiceTokenSigner
from sound.service.ports import Grant, Unavailable

log = logging.getLogger(__name__)
AUDIENCE = "kits-sound-kit"
MAX_ANSWER_BYTES = 16 * 1024


class _Caller:
    def __init__(
        self,
        *,
        url: str,
        audience: str,
        tokens: ServiceTokenSigner,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url, self._audience, self._tokens, self._timeout_s = url, audience, tokens, timeout_s
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
        )

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.post(
                    self._url, json=body, headers=self._tokens.bearer(self._audience)
                )
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            log.warning("%s did not answer: %s", self._audience, type(exc).__name__)
            raise Unavailable(f"{self._audience} did not answer") from exc
        if response.status_code != httpx.codes.OK or len(response.content) > MAX_ANSWER_BYTES:
            log.warning("%s answered HTTP %d", self._audience, response.status_code)
            raise Unavailable(f"{self._audience} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise Unavailable(f"{self._audience}'s answer is unreadable") from exc
        if not isinstance(data, dict):
            raise Unavailable(f"{self._audience}'s answer is not an object")
        return data

    async def aclose(self) -> None:
        await self._client.aclose()


class HttpTokenResolver(_Caller):
    """The `TokenResolver` port, answered by auth."""

    def __init__(
        self,
        *,
        base_url: str,
        tokens: ServiceTokenSigner,
        timeout_s: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            url=f"{base_url.rstrip('/')}/internal/v1/access-tokens/resolve",
            audience="auth",
            tokens=tokens,
            timeout_s=timeout_s,
            transport=transport,
        )

    async def resolve(self, token: str) -> Grant | str:
        data = await self._post({"token": token, "audience": AUDIENCE})
        if data.get("active") is not True:
            reason = data.get("reason")
            return reason if isinstance(reason, str) and reason else "inactive"
        try:
            scopes = data["scopes"]
            grant = Grant(
                token_id=str(data["token_id"]),
                client_id=str(data["client_id"]),
                user_key=str(data["user_key"]),
                scopes=tuple(str(s) for s in scopes),
                consent_id=str(data.get("consent_id") or ""),
                pairwise_subject=str(data.get("sub") or ""),
                consent_version=int(data.get("consent_version") or 1),
                terms_version=str(data.get("terms_version") or "unknown"),
                purpose=str(data.get("purpose") or "sound kit"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Unavailable("auth's resolve answer lacks a field") from exc
        if not grant.client_id or not grant.user_key:
            raise Unavailable("auth's resolve answer lacks the app or the user")
        return grant


class HttpConsentCheck(_Caller):
    """The `ConsentCheck` port, answered by consent."""

    def __init__(
        self, *, base_url: str, tokens: ServiceTokenSigner, timeout_s: float = 2.0
    ) -> None:
        super().__init__(
            url=f"{base_url.rstrip('/')}/v1/checks",
            audience="consent",
            tokens=tokens,
            timeout_s=timeout_s,
        )

    async def check(
        self, *, user_key: str, app_id: str, scopes: tuple[str, ...]
    ) -> tuple[bool, str, str | None]:
        data = await self._post({"user_key": user_key, "app_id": app_id, "scopes": list(scopes)})
        allowed, reason = data.get("allowed"), data.get("reason")
        if not isinstance(allowed, bool) or not isinstance(reason, str):
            raise Unavailable("consent's answer is not of the documented shape")
        consent_id = data.get("consent_id")
        if allowed and not (isinstance(consent_id, str) and consent_id):
            raise Unavailable("consent allowed without naming the consent")
        return allowed, reason, consent_id if allowed else None
