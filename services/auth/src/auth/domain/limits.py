"""Abuse limits as fixed time windows, each holding a bounded number of slots.

A request takes one slot in every window that applies to it (per number, per client address);
a slot is taken by a unique insert, so concurrent requests can never take more slots than the
window has (FerretDB's `$inc` loses increments; a unique `_id` never admits two).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` requests in each fixed period of `seconds`."""

    seconds: int
    limit: int

    def bucket(self, now: float) -> int:
        """The index of the period that holds `now` (seconds since the epoch)."""
        return int(now // self.seconds)

    def ends_at(self, now: float) -> float:
        """When the period holding `now` ends (its slots may be swept after)."""
        return (self.bucket(now) + 1) * self.seconds

    def retry_after(self, now: float) -> int:
        """Whole seconds until the period holding `now` ends."""
        return max(1, int(self.ends_at(now) - now + 0.999))


def parse_windows(value: str) -> tuple[Window, ...]:
    """`seconds:count` pairs, comma separated (e.g. `60:1,3600:5`)."""
    windows: list[Window] = []
    for part in value.split(","):
        seconds, sep, count = part.strip().partition(":")
        if not sep or not seconds.isdigit() or not count.isdigit():
            raise ValueError(f"a limit window is `seconds:count`, not {part!r}")
        if not 0 < int(seconds) <= 7 * 86_400 or not 0 < int(count) <= 10_000:
            raise ValueError(f"limit window {part!r} out of range")
        windows.append(Window(seconds=int(seconds), limit=int(count)))
    return tuple(windows)


class RateLimited(Exception):
    """Too many requests in a window; retry after `retry_after_s` seconds."""

    def __init__(self, *, retry_after_s: int) -> None:
        super().__init__(f"too many requests; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s
