"""The development SMS sender: keeps the last code per number in memory, sends nothing.

Only built when `AUTH_ENVIRONMENT=development` and `AUTH_SMS_SENDER=development`; it writes
nothing to disk or logs. `POST /dev/sms/last-code` reads it, so tests and the local stack can
log in without a phone.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"\b(\d{6})\b")
MAX_NUMBERS = 10_000


class DevSmsSender:
    """An in-memory outbox of the last code sent to each number."""

    def __init__(self) -> None:
        self._last: dict[str, str] = {}

    async def send(self, *, to: str, body: str) -> None:
        """Keep the code of the message (the number is a key in memory only)."""
        found = _CODE.search(body)
        if found is None:
            return
        if len(self._last) >= MAX_NUMBERS:
            self._last.pop(next(iter(self._last)))
        self._last[to] = found.group(1)

    def last_code(self, e164: str) -> str | None:
        """The last code sent to the number, if any."""
        return self._last.get(e164)
