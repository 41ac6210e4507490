"""The rules every registered value must keep: URLs, redirect URIs, names, scopes, recipients.

Redirect URIs are compared exactly at authorization time (RFC 9700 §2.1), so what is stored is
what was registered, never normalised: a URI that two parsers could read differently (spaces,
backslashes, upper-case scheme or host, a userinfo part) is refused rather than cleaned up.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import urlsplit

from auth.domain.scopes import unknown_scopes

MAX_REDIRECT_URIS = 10
MAX_URL_CHARS = 1000
MAX_NAME_CHARS = 100
MAX_RECIPIENTS = 20
MAX_RECIPIENT_CHARS = 200
MAX_RETENTION_DAYS = 36_500
MAX_TERMS_VERSION_CHARS = 64
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}$")
_SCOPE_SHAPE = re.compile(r"[a-z][a-z0-9_.:]{0,63}")


class InvalidApp(ValueError):
    """A registered value breaks a rule; `field` names it (with an index for list items)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_url(
    url: str, *, field: str, allow_fragment: bool, allow_http_loopback: bool = True
) -> str:
    """`url` if it is an absolute https URL (http only for a loopback host), else InvalidApp."""
    if not url or len(url) > MAX_URL_CHARS:
        raise InvalidApp(field, f"must be 1 to {MAX_URL_CHARS} characters")
    if any(not 0x21 <= ord(char) <= 0x7E for char in url):
        raise InvalidApp(field, "only printable ASCII without spaces (percent-encode the rest)")
    if "\\" in url:
        raise InvalidApp(field, "must not contain a backslash")
    if "*" in url:
        raise InvalidApp(field, "must not contain a wildcard: register each URI exactly")
    if not allow_fragment and "#" in url:
        raise InvalidApp(field, "must not have a fragment")
    if not url.startswith(("https://", "http://")):
        raise InvalidApp(field, "must be an absolute https:// URI (http:// only for loopback)")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise InvalidApp(field, "is not a well-formed URI") from exc
    if "@" in parts.netloc:
        raise InvalidApp(field, "must not have a userinfo part (user:password@)")
    host = _host(parts.netloc, field=field)
    try:
        parts.port  # noqa: B018 - property that raises on a malformed port
    except ValueError as exc:
        raise InvalidApp(field, "has a malformed port") from exc
    if parts.scheme == "http" and not (allow_http_loopback and host in LOOPBACK_HOSTS):
        where = "a loopback host (127.0.0.1, [::1], localhost)"
        if not allow_http_loopback:
            where += " in development"
        raise InvalidApp(field, f"must use https (http only for {where})")
    return url


def _host(netloc: str, *, field: str) -> str:
    raw = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
    if raw.startswith("["):
        try:
            return str(ipaddress.IPv6Address(raw.strip("[]")))
        except ValueError as exc:
            raise InvalidApp(field, "has a malformed IPv6 host") from exc
    if not raw:
        raise InvalidApp(field, "must have a host")
    if not _HOST.match(raw):
        raise InvalidApp(field, "host must be a lower-case DNS name or an IP address")
    return raw


def check_redirect_uris(uris: Sequence[str]) -> tuple[str, ...]:
    """Exact redirect URIs: 1 to MAX_REDIRECT_URIS of them, distinct, each by `check_url`."""
    if not 1 <= len(uris) <= MAX_REDIRECT_URIS:
        raise InvalidApp("redirect_uris", f"give 1 to {MAX_REDIRECT_URIS} URIs")
    for index, uri in enumerate(uris):
        check_url(uri, field=f"redirect_uris[{index}]", allow_fragment=False)
    if len(set(uris)) != len(uris):
        raise InvalidApp("redirect_uris", "each URI once")
    return tuple(uris)


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """At least one scope, each from the catalogue, each once."""
    if not scopes:
        raise InvalidApp("allowed_scopes", "give at least one scope")
    unknown = unknown_scopes(scopes)
    if unknown:
        # Named back only when shaped like a scope: anything else (a phone number pasted in
        # the wrong field) is counted, never echoed.
        shaped = [repr(name) for name in unknown if _SCOPE_SHAPE.fullmatch(name)]
        others = len(unknown) - len(shaped)
        names = ", ".join(shaped[:5] + ([f"{others} malformed"] if others else []))
        raise InvalidApp("allowed_scopes", f"not in the scope catalogue: {names}")
    if len(set(scopes)) != len(scopes):
        raise InvalidApp("allowed_scopes", "each scope once")
    return tuple(scopes)


def check_text(value: str, *, field: str, max_chars: int) -> str:
    """Display text: 1 to `max_chars` characters, not blank, no control characters."""
    if not value.strip() or len(value) > max_chars:
        raise InvalidApp(field, f"must be 1 to {max_chars} characters and not blank")
    if any(unicodedata.category(char).startswith("C") for char in value):
        raise InvalidApp(field, "must not contain control or invisible format characters")
    return value


def check_recipients(recipients: Sequence[str]) -> tuple[str, ...]:
    """The declared data recipients: at most MAX_RECIPIENTS, distinct, each display text."""
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidApp("recipients", f"at most {MAX_RECIPIENTS}")
    for index, name in enumerate(recipients):
        check_text(name, field=f"recipients[{index}]", max_chars=MAX_RECIPIENT_CHARS)
    if len(set(recipients)) != len(recipients):
        raise InvalidApp("recipients", "each recipient once")
    return tuple(recipients)


def check_retention(days: int) -> int:
    """How long the app keeps data, in days (0 = not kept after the request)."""
    if isinstance(days, bool) or not 0 <= days <= MAX_RETENTION_DAYS:
        raise InvalidApp("retention_days", f"must be a whole number from 0 to {MAX_RETENTION_DAYS}")
    return days
