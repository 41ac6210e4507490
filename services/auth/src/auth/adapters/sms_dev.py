"""The development SMS sender: keeps the last code per number in memory, sends nothing.

Nothing is written to disk or to a log. The numbers are the dictionary's keys only as a keyed
hash under a random key of this process, so even a heap dump does not list them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import OrderedDict

MAX_NUMBERS = 10_000  # a long-running development process does not grow without bound
_CODE = re.compile(r"(?<!\d)(\d{4,8})(?!\d)")


class DevSmsSender:
    """`SmsSender` for development and tests: `last_code(number)` reads what was sent."""

    def __init__(self, *, max_numbers: int = MAX_NUMBERS) -> None:
        self._key = secrets.token_bytes(32)
        self._codes: OrderedDict[str, str] = OrderedDict()
        self._max = max_numbers

    async def send(self, *, to: str, body: str) -> None:
        """Keep the code the message carries (its first run of 4 to 8 digits)."""
        match = _CODE.search(body)
        if match is None:
            return
        slot = self._slot(to)
        self._codes[slot] = match.group(1)
        self._codes.move_to_end(slot)
        while len(self._codes) > self._max:
            self._codes.popitem(last=False)

    def last_code(self, to: str) -> str | None:
        """The last code sent to `to` (E.164), or None."""
        return self._codes.get(self._slot(to))

    async def aclose(self) -> None:
        """Nothing to release."""

    def _slot(self, to: str) -> str:
        return hmac.new(self._key, to.encode(), hashlib.sha256).hexdigest()
