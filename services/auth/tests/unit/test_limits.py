"""Limit windows and their parsing."""

from __future__ import annotations

import pytest

from auth.domain.limits import Window, parse_windows


def test_windows_parse_and_bucket() -> None:
    minute, hour = parse_windows("60:1, 3600:5")
    assert (minute.seconds, minute.limit, hour.limit) == (60, 1, 5)
    assert minute.bucket(119.9) == 1
    assert minute.ends_at(119.9) == 120
    assert minute.retry_after(119.5) == 1
    assert Window(seconds=60, limit=1).retry_after(60.0) == 60


@pytest.mark.parametrize("value", ["60", "a:1", "60:0", "0:5", "60:1,", "999999999:1"])
def test_bad_windows_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="limit window"):
        parse_windows(value)
