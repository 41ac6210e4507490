"""Phone numbers in, E.164 out: the only place that reads a number a person typed.

`phonenumbers` reads letters as a keypad (`1-800-FLOWERS`); a login number with letters is
refused before it is parsed. No error names the number: each says what is wrong with it.
"""

from __future__ import annotations

import re

import phonenumbers

MAX_CHARS = 32
_ALLOWED = re.compile(r"^[0-9+() .\-]+$")


class InvalidPhone(ValueError):
    """The number cannot be used to log in (the reason says why; never the number)."""


def to_e164(raw: str) -> str:
    """The number in E.164, or InvalidPhone with the reason."""
    text = raw.strip()
    if not text:
        raise InvalidPhone("give a phone number")
    if len(text) > MAX_CHARS:
        raise InvalidPhone(f"a phone number has at most {MAX_CHARS} characters")
    if not _ALLOWED.match(text):
        raise InvalidPhone("a phone number has only digits, spaces, +, -, ., ( and )")
    if not text.startswith("+"):
        raise InvalidPhone(
            "give the number in international form, starting with + and the country code"
        )
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("that is not a phone number with a known country code") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("that number has the wrong length for its country (impossible)")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("that number is not in use in its country's numbering plan (invalid)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
