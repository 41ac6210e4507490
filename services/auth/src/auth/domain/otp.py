"""One-time login codes: what a challenge holds, and the rules a guess is checked against.

A challenge stores only keyed hashes (of the number: its `_id` and the lookup ids; of the code,
with a per-code salt), its expiry and its attempt budget. Each guess first takes one attempt slot
by a unique insert, so at most `max_attempts` guesses are ever evaluated, however many arrive at
once; the right code then claims the challenge by deleting it, so it logs in exactly once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

CODE_DIGITS = 6


def new_code() -> str:
    """A uniformly random 6-digit code."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def well_formed(code: str) -> bool:
    """Whether a guess is six ASCII digits (anything else is wrong without a lookup)."""
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


@dataclass(frozen=True, slots=True)
class Challenge:
    """A code sent to a number: only keyed hashes of either are kept."""

    challenge_id: str  # keyed hash of the number: one live challenge per number
    serial: str  # random per code sent: attempt slots and the code hash belong to one code
    code_hash: str
    created_at: float
    expires_at: float
    max_attempts: int
    # (key id, lookup id) under every lookup key, current first: the number's keyed hashes
    # that find its user once the code is proven (the number itself is not kept).
    lookups: tuple[tuple[str, str], ...]

    def expired(self, now: float) -> bool:
        """Whether the code is past its lifetime."""
        return now >= self.expires_at

    def matches(self, code_hash: str) -> bool:
        """Constant-time comparison of a guess's hash with the stored one."""
        return hmac.compare_digest(self.code_hash, code_hash)


class LoginFailed(Exception):
    """The code is wrong, expired, used up or was never sent: one answer for all of them."""

    def __init__(self) -> None:
        super().__init__("the code is wrong or has expired; ask for a new one")
