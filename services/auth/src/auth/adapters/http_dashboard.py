"""The dashboard's ports over HTTP: consent's `/v1/me/consents…` and the audit's `/reports/me`.

Each call carries the user's platform token (`Authorization: Bearer`). Fail closed and say so:
a timeout, a connection error, a 401 (the upstream does not trust auth's user tokens: a
configuration error, logged), a 5xx or an answer not of the documented shape raises
`UpstreamUnavailable`; a 404 from consent raises `UpstreamNotFound`. One pooled client each.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import httpx

from auth.service.dashboard_ports import UpstreamNotFound, UpstreamUnavailable

log = logging.getLogger(__name__)
MAX_ANSWER_BYTES = 8 * 1024 * 1024


class _Upstream:
    def __init__(self, *, base_url: str, name: str, timeout_s: float) -> None:
        self._base, self._name, self._timeout_s = base_url.rstrip("/"), name, timeout_s
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s), follow_redirects=False, trust_env=False
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def call(self, method: str, path: str, *, token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.request(method, self._base + path, headers=headers)
        except (TimeoutError, httpx.HTTPError, OSError) as exc:
            log.warning("%s did not answer: %s", self._name, type(exc).__name__)
            raise UpstreamUnavailable(f"{self._name} did not answer") from exc
        if response.status_code == 404:
            raise UpstreamNotFound(f"{self._name}: no such record of this user")
        if response.status_code == 401:
            log.error("%s refused auth's user token (check its USER_TOKEN_* settings)", self._name)
        if response.status_code != 200 or len(response.content) > MAX_ANSWER_BYTES:
            raise UpstreamUnavailable(f"{self._name} answered {response.status_code}")
        return response

    async def json(self, method: str, path: str, *, token: str, key: str) -> Any:
        response = await self.call(method, path, token=token)
        try:
            body = response.json()
        except ValueError as exc:
            raise UpstreamUnavailable(f"{self._name} did not answer JSON") from exc
        if not isinstance(body, dict) or key not in body:
            raise UpstreamUnavailable(f"{self._name}'s answer has no {key!r}")
        return body


class HttpUserConsents(_Upstream):
    """The `UserConsents` port, answered by the consent service."""

    def __init__(self, *, base_url: str, timeout_s: float) -> None:
        super().__init__(base_url=base_url, name="consent", timeout_s=timeout_s)

    async def of_user(self, *, token: str) -> list[dict[str, Any]]:
        """Every consent of the user."""
        body = await self.json("GET", "/v1/me/consents", token=token, key="consents")
        return _dicts(body["consents"])

    async def revoke(self, *, token: str, consent_id: str) -> dict[str, Any]:
        """Revoke one consent."""
        path = f"/v1/me/consents/{quote(consent_id, safe='')}/revoke"
        body: dict[str, Any] = await self.json("POST", path, token=token, key="consent_id")
        return body

    async def revoke_all(self, *, token: str) -> list[dict[str, Any]]:
        """Revoke every consent."""
        body = await self.json("POST", "/v1/me/consents/revoke-all", token=token, key="revoked")
        return _dicts(body["revoked"])

    async def receipt(self, *, token: str, consent_id: str) -> bytes:
        """The consent's signed receipt, exactly as consent serves it."""
        path = f"/v1/me/consents/{quote(consent_id, safe='')}/receipt"
        return (await self.call("GET", path, token=token)).content


class HttpAccessReports(_Upstream):
    """The `AccessReports` port, answered by the audit."""

    def __init__(self, *, base_url: str, timeout_s: float) -> None:
        super().__init__(base_url=base_url, name="audit", timeout_s=timeout_s)

    async def report(self, *, token: str) -> dict[str, Any]:
        """The user's access report."""
        body: dict[str, Any] = await self.json("GET", "/reports/me", token=token, key="transfers")
        if not isinstance(body["transfers"], list):
            raise UpstreamUnavailable("audit's report has no transfer list")
        return body


def _dicts(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise UpstreamUnavailable("the answer is not a list of records")
    return items
