"""Strict JSON and base64 helpers shared by the checkpoint and response parsers."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping

from .errors import FormatError
from .proofs import HASH_SIZE

MAX_UINT63 = (1 << 63) - 1
SHARD_RE = re.compile(r"[!-~]{1,200}")  # 1-200 printable ASCII characters, no spaces


def b64encode(data: bytes) -> str:
    """Encode bytes as standard, padded base64 text."""
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(
    value: object, *, what: str, size: int | None, error: type[FormatError]
) -> bytes:
    """Decode canonical standard padded base64, optionally requiring an exact byte length."""
    if not isinstance(value, str):
        raise error(f"{what} must be a base64 string, got {type(value).__name__}")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise error(f"{what} is not valid base64") from exc
    if b64encode(raw) != value:
        raise error(f"{what} is not canonical base64")
    if size is not None and len(raw) != size:
        raise error(f"{what} must be {size} bytes, got {len(raw)}")
    return raw


def _reject_constant(name: str) -> object:
    raise ValueError(f"non-standard JSON constant {name}")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate JSON key {key!r}")
        result[key] = value
    return result


def loads_strict(text: str | bytes, *, what: str, error: type[FormatError]) -> object:
    """Parse one JSON document, rejecting duplicate keys, NaN/Infinity and trailing data."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise error(f"{what} is not valid JSON: {exc}") from exc


def exact_object(
    value: object,
    *,
    what: str,
    required: frozenset[str],
    optional: frozenset[str] = frozenset(),
    error: type[FormatError],
) -> Mapping[str, object]:
    """Return value as a JSON object holding all required keys and no unknown ones."""
    if not isinstance(value, dict):
        raise error(f"{what} must be a JSON object, got {type(value).__name__}")
    keys = set(value)
    missing = sorted(required - keys)
    if missing:
        raise error(f"{what} is missing field(s): {', '.join(missing)}")
    unknown = sorted(keys - required - optional)
    if unknown:
        raise error(f"{what} has unknown field(s): {', '.join(unknown)}")
    return value


def get_uint(obj: Mapping[str, object], *, key: str, what: str, error: type[FormatError]) -> int:
    """Return obj[key] as a non-negative integer below 2**63 (booleans rejected)."""
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{what}.{key} must be an integer, got {type(value).__name__}")
    if not 0 <= value <= MAX_UINT63:
        raise error(f"{what}.{key} is out of range: {value}")
    return value


def get_str(obj: Mapping[str, object], *, key: str, what: str, error: type[FormatError]) -> str:
    """Return obj[key] as a string."""
    value = obj[key]
    if not isinstance(value, str):
        raise error(f"{what}.{key} must be a string, got {type(value).__name__}")
    return value


def get_shard(obj: Mapping[str, object], *, key: str, what: str, error: type[FormatError]) -> str:
    """Return obj[key] as a shard name (1-200 printable ASCII characters without spaces)."""
    value = get_str(obj, key=key, what=what, error=error)
    if not SHARD_RE.fullmatch(value):
        raise error(f"{what}.{key} is not a valid shard name: {value!r}")
    return value


def get_hash_list(
    obj: Mapping[str, object],
    *,
    key: str,
    what: str,
    max_items: int,
    error: type[FormatError],
) -> tuple[bytes, ...]:
    """Return obj[key] as a list of at most max_items base64 32-byte hashes."""
    value = obj[key]
    if not isinstance(value, list):
        raise error(f"{what}.{key} must be a JSON array, got {type(value).__name__}")
    if len(value) > max_items:
        raise error(f"{what}.{key} has {len(value)} elements, more than {max_items}")
    return tuple(
        b64decode_strict(item, what=f"{what}.{key}[{i}]", size=HASH_SIZE, error=error)
        for i, item in enumerate(value)
    )
