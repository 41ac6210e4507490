"""Twilio's Messages API behind the `SmsSender` port.

`POST {api}/2010-04-01/Accounts/{sid}/Messages.json`, form fields `To`, `From` (or
`MessagingServiceSid` for an `MG…` sender) and `Body`, HTTP basic auth (account SID, auth
token); a 201 answer carries the message's `sid` and `status`; an error is JSON `{code,
message, more_info, status}`. 5xx answers and network errors are tried again a bounded number
of times; 4xx answers are not (the same request would be refused again). Twilio echoes the
number in some error messages, so every `SmsFailed` text is redacted.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import httpx

from auth.service.ports import SmsFailed
from shared.logging import redact

log = logging.getLogger(__name__)
_DIGIT_RUN = re.compile(r"\d[\d ().-]{5,}\d")
MAX_REASON = 200


class TwilioSmsSender:
    """Sends each message with one form POST (bounded tries, each with a timeout)."""

    def __init__(
        self,
        *,
        api_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        timeout_s: float = 10.0,
        max_attempts: int = 3,
        backoff_s: float = 0.5,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._sender_field = "MessagingServiceSid" if sender.startswith("MG") else "From"
        self._sender = sender
        self._attempts = max_attempts
        self._backoff_s = backoff_s
        self._client = client or httpx.AsyncClient(
            auth=(account_sid, auth_token), timeout=httpx.Timeout(timeout_s)
        )

    async def send(self, *, to: str, body: str) -> None:
        """Deliver to Twilio or raise `SmsFailed` (its reason never holds the number)."""
        form = {"To": to, self._sender_field: self._sender, "Body": body}
        reason = "no attempt made"
        for attempt in range(1, self._attempts + 1):
            try:
                answer = await self._client.post(self._url, data=form)
            except httpx.HTTPError as exc:  # timeouts, refused or dropped connections
                reason = f"twilio unreachable ({type(exc).__name__})"
            else:
                if answer.status_code == httpx.codes.CREATED:
                    self._accepted(answer)
                    return
                reason = _refusal(answer, to=to)
                if answer.status_code < httpx.codes.INTERNAL_SERVER_ERROR:
                    raise SmsFailed(reason)
            log.warning("sms send failed", extra={"attempt": attempt, "reason": reason})
            if attempt < self._attempts:
                await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))
        raise SmsFailed(f"{reason}; gave up after {self._attempts} tries")

    async def aclose(self) -> None:
        """Close the HTTP client's connections."""
        await self._client.aclose()

    def _accepted(self, answer: httpx.Response) -> None:
        data = _json(answer)
        log.info(
            "sms accepted", extra={"sid": str(data.get("sid", "")), "status": data.get("status")}
        )


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _refusal(answer: httpx.Response, *, to: str) -> str:
    """`twilio refused (HTTP 400, code 21211): …`, with the number and any phone-like run gone."""
    data = _json(answer)
    code = data.get("code")
    message = str(data.get("message", ""))[:MAX_REASON]
    message = _DIGIT_RUN.sub("[redacted]", redact(message.replace(to, "[redacted-phone]")))
    what = f"HTTP {answer.status_code}" + (f", code {code}" if isinstance(code, int) else "")
    return f"twilio refused ({what})" + (f": {message}" if message else "")
