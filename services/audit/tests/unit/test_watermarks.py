"""A verdict waits until the ledger has stored every event from before the transfer."""

from __future__ import annotations

from audit.domain.watermarks import Watermarks

P = ("consent.events", 3)


def test_a_partition_is_covered_only_once_its_noted_end_was_committed() -> None:
    marks = Watermarks()
    marks.observe(now=10.0, ends={P: 5}, committed={P: 3})  # lagging: offsets 3 and 4 unread
    assert not marks.covers(P, 9.0)
    marks.observe(now=11.0, ends={P: 7}, committed={P: 5})  # reached the end noted at 10.0
    assert marks.covers(P, 9.0)
    assert not marks.covers(P, 10.5)
    marks.observe(now=12.0, ends={P: 7}, committed={P: 7})
    assert marks.covers(P, 11.9)


def test_an_empty_or_unknown_partition() -> None:
    marks = Watermarks()
    assert not marks.covers(P, 0.0)
    marks.observe(now=5.0, ends={P: 0}, committed={})
    assert marks.covers(P, 4.0)
