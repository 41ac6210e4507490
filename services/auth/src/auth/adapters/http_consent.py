"""The consent check over HTTP (`POST {consent}/v1/checks`, consent README "The check").

Fail closed: a timeout, a connection error, a 401 (consent refused auth's service token: a
configuration error, logged), any other non-200 or an answer that is not the documented shape
raises `ConsentUnavailable`; nothing but a readable `allowed: true` with its consent id, version
and terms version ever allows. One pooled httpx client for the process; the whole call (pool
wait, connect, send, read) is bounded by `timeout_s`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from auth.adapters.jose_service_tokens import ServiceTokenSigner
from auth.domain.grants import ConsentAnswer, ConsentUnavailable

log = logging.getLogger(__name__)
AUDIENCE = "consent"
MAX_ANSWER_BYTES = 16 * 1024


class HttpConsentCheck:
    """The `ConsentCheck` port, answered by the consent service."""

    def __init__(
        self,
        *,
        base_url: str,
        tokens: ServiceTokenSigner,
        timeout_s: float = 2.0,
        max_connections: int = 64,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/v1/checks"
        self._tokens, self._timeout_s = tokens, timeout_s
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=False,
            trust_env=False,  # never through an environment proxy: consent is ours
        )

    async def check(self, *, user_key: str, app_id: str, scopes: tuple[str, ...]) -> ConsentAnswer:
        """Whether an active consent covers `scopes` now; ConsentUnavailable when unsure."""
        body = {"user_key": user_key, "app_id": app_id, "scopes": list(scopes)}
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.post(
                    self._url, json=body, headers=self._tokens.bearer(AUDIENCE)
                )
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            log.warning("consent check failed: %s", type(exc).__name__, extra={"app_id": app_id})
            raise ConsentUnavailable(f"the consent check did not answer: {exc!r}") from exc
        return _answer(response, app_id=app_id)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()


def _answer(response: httpx.Response, *, app_id: str) -> ConsentAnswer:
    if response.status_code == httpx.codes.UNAUTHORIZED:
        # Not the user's fault: consent does not accept auth's token (CONSENT_SERVICE_CALLERS).
        log.error(
            "consent refused auth's service token (401); check CONSENT_SERVICE_CALLERS",
            extra={"app_id": app_id, "detail": response.text[:200]},
        )
        raise ConsentUnavailable("consent refused auth's service token")
    if response.status_code != httpx.codes.OK:
        log.warning(
            "consent check answered HTTP %d", response.status_code, extra={"app_id": app_id}
        )
        raise ConsentUnavailable(f"the consent check answered HTTP {response.status_code}")
    if len(response.content) > MAX_ANSWER_BYTES:
        raise ConsentUnavailable("the consent check's answer is too large")
    try:
        return _parsed(response.json())
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("consent check answer unreadable: %s", exc, extra={"app_id": app_id})
        raise ConsentUnavailable("the consent check's answer is unreadable") from exc


def _parsed(data: Any) -> ConsentAnswer:
    if not isinstance(data, dict):
        raise TypeError("not an object")
    allowed, reason = data["allowed"], data["reason"]
    if not isinstance(allowed, bool) or not isinstance(reason, str):
        raise TypeError("allowed must be a boolean and reason a string")
    if not allowed:
        return ConsentAnswer(False, reason)
    consent_id, version, terms = data["consent_id"], data["version"], data["terms_version"]
    if not (isinstance(consent_id, str) and consent_id and isinstance(terms, str)):
        raise TypeError("an allow names its consent id and terms version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise TypeError("an allow names its consent version")
    return ConsentAnswer(True, reason, consent_id=consent_id, version=version, terms_version=terms)
