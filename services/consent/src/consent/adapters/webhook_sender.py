"""Signed POSTs to apps' deletion webhooks (Standard Webhooks), bounded in time and size.

A redirect is never followed (the app must name its real endpoint); at most `MAX_ANSWER_BYTES`
of an answer are read and then dropped, and an answer's body is never logged nor kept.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from consent.service.deletion_ports import Delivery

MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "kits-consent-deletion-webhook/1"


class HttpWebhookSender:
    """The `WebhookSender` port over one pooled httpx client (close it with `aclose()`)."""

    def __init__(self, *, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None  # made at the first send

    def _pool(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout_s),
                follow_redirects=False,
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
                trust_env=False,  # no proxy or netrc from the environment
            )
        return self._client

    async def send(self, *, url: str, secret: str, message_id: str, body: str) -> Delivery:
        """One signed attempt: the status code, or the error that kept it from an answer."""
        now = datetime.now(UTC)  # aware UTC: `sign()` relabels any datetime as UTC
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, now, body),
        }
        try:
            # httpx's timeout bounds each read; this bounds the whole attempt (a slow drip too)
            async with (
                asyncio.timeout(self._timeout_s),
                self._pool().stream(
                    "POST", url, content=body.encode(), headers=headers
                ) as response,
            ):
                await _drain(response)
                return Delivery(status_code=response.status_code)
        except (httpx.TimeoutException, TimeoutError):
            return Delivery(status_code=None, error=f"no answer within {self._timeout_s:g}s")
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            # the URL may carry the app's own token: never let it reach a record or an event
            message = str(exc).replace(url, "<webhook URL>")
            return Delivery(status_code=None, error=f"{type(exc).__name__}: {message}"[:300])

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def _drain(response: httpx.Response) -> None:
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > MAX_ANSWER_BYTES:
            return  # enough: only the status counts
