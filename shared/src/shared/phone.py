"""The one definition of "phone-shaped", used by the log guard, the contracts and dead letters.

A phone-shaped run is one of:
- international: `+` and 7 or more digits, in groups split by one space, dot or hyphen, a group
  possibly in parentheses (`+4915112345678`, `+49 151 1234 5678`, `+49.151.1234.5678`,
  `+1 (555) 123-4567`);
- national with a trunk prefix: `0` (or `00`) then a non-zero digit, 8 to 15 digits in all (17
  after `00`), grouped the same way (`015112345678`, `0151 1234 5678`, `(0151) 1234 5678`,
  `0049 151 …`);
- North American: `(555) 123-4567`, `555-123-4567`, `555.123.4567`, optionally after `1-`;
- a bare number of 7 to 15 digits standing as a whole value (a whole identifier, or a quoted
  string in text): E.164 without its `+`. Inside free text such a run is far more often an offset
  or a millisecond timestamp, so there only a quoted one counts.

A run counts only as a whole token: not preceded by a letter, digit, `_`, `.`, `+`, `/` or `-`,
and not followed by a letter, digit, `_`, `+`, `/`, `=` or by `.`/`-` and more of the token. So
digits inside a hex digest, a UUID, a base64 string, an IPv4 address, a `topic/partition` name or
an ISO timestamp are not phones. A UUID is excluded by its shape even when all its hex digits
happen to be decimal (a UUIDv7 starts with `0` for decades).
"""

from __future__ import annotations

import re

REDACTED = "[redacted-phone]"
MIN_INTERNATIONAL_DIGITS = 7
MIN_NATIONAL_DIGITS = 8
MAX_WHOLE_NUMBER_DIGITS = 15  # E.164's longest number

_GROUPS = r"(?:[ .-]?(?:\(\d++\)|\d++))*+"  # possessive: a token is taken whole or not at all
_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?!\w)"
_PHONE = re.compile(
    r"(?<![\w.+/-])(?!" + _UUID + r")"
    r"(?:(?P<intl>\+\d++" + _GROUPS + r")"
    r"|(?P<nanp>(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4})"
    r"|(?P<national>\(?0(?:0?[1-9])\d*+\)?" + _GROUPS + r")"
    rf"|(?<=['\"])(?P<whole>\d{{{MIN_INTERNATIONAL_DIGITS},{MAX_WHOLE_NUMBER_DIGITS}}})(?=['\"]))"
    r"(?![\w+/=]|[.-]\w)"
)
# A value with no place where a run may start: a letter or `_` first, then only `\w . / -`.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*+")
_UUID_ONLY = re.compile(_UUID)
_ONE_TOKEN = re.compile(r"[A-Za-z0-9_./-]++")
_WHOLE_NUMBER = re.compile(rf"\+?\d{{{MIN_INTERNATIONAL_DIGITS},{MAX_WHOLE_NUMBER_DIGITS}}}")


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _is_phone(match: re.Match[str]) -> bool:
    kind, text = match.lastgroup, match.group()
    if kind == "intl":
        return _digits(text) >= MIN_INTERNATIONAL_DIGITS
    if kind == "national":
        # At most E.164's 15 digits with the trunk `0`, two more with `00`: longer runs, such
        # as an all-decimal hex id, are not numbers anyone dials.
        longest = MAX_WHOLE_NUMBER_DIGITS + (2 if text.lstrip("(").startswith("00") else 0)
        return MIN_NATIONAL_DIGITS <= _digits(text) <= longest
    return True  # nanp and whole have their length in the pattern


def _mask(match: re.Match[str]) -> str:
    return REDACTED if _is_phone(match) else match.group()


def redact_phones(text: str) -> str:
    """Mask every phone-shaped run in free text: a last-line guard, not a licence to log one."""
    return _PHONE.sub(_mask, text)


def looks_like_phone(value: str) -> bool:
    """Whether a whole value (an identifier, an event id) is or contains a phone-shaped run."""
    if _PLAIN.fullmatch(value):
        return False  # the common case, one C-level test: every parse checks several values
    if _UUID_ONLY.fullmatch(value):
        return False  # an event id
    if _WHOLE_NUMBER.fullmatch(value):
        return True
    if _ONE_TOKEN.fullmatch(value):
        match = _PHONE.match(value)  # only the start can begin a run
        return match is not None and _is_phone(match)
    return any(_is_phone(m) for m in _PHONE.finditer(value))
