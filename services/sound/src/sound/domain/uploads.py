"""The rules of an upload session: the declared plan, chunk ranges, and the refusals (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

MEDIA_TYPES = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/ogg; codecs=vorbis": "vorbis",
    "audio/vorbis": "vorbis",
    "audio/ogg; codecs=opus": "opus",
    "audio/opus": "opus",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
}
_RANGE = re.compile(r"^bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$")


class Refused(Exception):
    """A request the rules refuse: `kind` picks the HTTP status, `message` is for the app."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


@dataclass(frozen=True)
class Limits:
    """Bounds of one upload (README "Limits")."""

    max_total_bytes: int
    max_chunk_bytes: int
    min_chunk_bytes: int
    max_chunks: int


@dataclass(frozen=True)
class Plan:
    """What the init call declared."""

    total_size: int
    chunk_size: int
    chunk_count: int
    media_type: str

    def chunk_bounds(self, index: int) -> tuple[int, int]:
        """First and last byte (inclusive) of chunk `index`."""
        first = index * self.chunk_size
        last = self.total_size - 1 if index == self.chunk_count - 1 else first + self.chunk_size - 1
        return first, last


def normalised_media_type(value: str) -> str:
    """The media type as the catalogue spells it (case and spaces around `;` ignored)."""
    return "; ".join(part.strip() for part in value.lower().split(";"))


def check_plan(plan: Plan, limits: Limits) -> str:
    """The format the declared media type names; Refused when the plan breaks a rule."""
    fmt = MEDIA_TYPES.get(normalised_media_type(plan.media_type))
    if fmt is None:
        raise Refused("unsupported_media_type", f"media type not accepted: {plan.media_type[:100]}")
    if plan.total_size < 1 or plan.chunk_size < 1 or plan.chunk_count < 1:
        raise Refused("invalid_params", "total_size, chunk_size and chunk_count must be positive")
    if plan.total_size > limits.max_total_bytes:
        raise Refused("too_large", f"total_size is over {limits.max_total_bytes} bytes")
    if plan.chunk_size > limits.max_chunk_bytes:
        raise Refused("too_large", f"chunk_size is over {limits.max_chunk_bytes} bytes")
    if plan.chunk_count > limits.max_chunks:
        raise Refused("invalid_params", f"chunk_count is over {limits.max_chunks}")
    if plan.chunk_count > 1 and plan.chunk_size < limits.min_chunk_bytes:
        raise Refused("invalid_params", f"chunk_size is under {limits.min_chunk_bytes} bytes")
    expected = -(-plan.total_size // plan.chunk_size)
    if plan.chunk_count != expected:
        raise Refused(
            "invalid_params", f"chunk_count must be ceil(total_size / chunk_size) = {expected}"
        )
    return fmt


def chunk_of(plan: Plan, content_range: str | None, content_length: int | None) -> int:
    """The chunk index a `Content-Range: bytes first-last/total` names; Refused otherwise."""
    match = _RANGE.match((content_range or "").strip())
    if match is None:
        raise Refused("invalid_range", "Content-Range must be `bytes first-last/total`")
    first, last, total = (int(g) for g in match.groups())
    if total != plan.total_size:
        raise Refused("invalid_range", f"the total in Content-Range must be {plan.total_size}")
    if last >= plan.total_size or first > last:
        raise Refused("range_not_satisfiable", "the range lies outside the declared file")
    if first % plan.chunk_size:
        raise Refused("invalid_range", f"a chunk starts at a multiple of {plan.chunk_size}")
    index = first // plan.chunk_size
    if (first, last) != plan.chunk_bounds(index):
        start, end = plan.chunk_bounds(index)
        raise Refused("invalid_range", f"chunk {index} is bytes {start}-{end}")
    if content_length is not None and content_length != last - first + 1:
        raise Refused("invalid_range", "Content-Length differs from the range's length")
    return index


def stored_ranges(plan: Plan, indexes: set[int]) -> list[str]:
    """The stored chunks as merged `first-last` byte ranges, in order."""
    ranges: list[list[int]] = []
    for index in sorted(indexes):
        first, last = plan.chunk_bounds(index)
        if ranges and ranges[-1][1] + 1 == first:
            ranges[-1][1] = last
        else:
            ranges.append([first, last])
    return [f"{a}-{b}" for a, b in ranges]
