"""When a consumer group counts as stalled: lag, and a commit that has not moved for `stall_s`."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import TopicPartition

from shared.kafka.health import Offsets, StallTracker, describe

TP = TopicPartition("consent.events", 3)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def tracker(clock: Clock) -> StallTracker:
    return StallTracker(
        stall_s=60, clock=clock, wall=lambda: datetime.fromtimestamp(clock.now, UTC)
    )


def test_lag_with_a_commit_that_does_not_move_is_a_stall_after_stall_s() -> None:
    clock = Clock()
    watch = tracker(clock)
    stuck = {TP: Offsets(beginning=0, end=1006, committed=5)}
    assert watch.observe(group="g", offsets=stuck) == []
    clock.now += 59
    assert watch.observe(group="g", offsets=stuck) == []
    clock.now += 1
    [stall] = watch.observe(group="g", offsets=stuck)
    assert (stall.group, stall.topic, stall.partition, stall.offsets.lag) == (
        "g",
        "consent.events",
        3,
        1001,
    )
    assert stall.for_s == 60
    assert stall.since == datetime.fromtimestamp(1000.0, UTC)


def test_a_commit_that_moves_is_never_a_stall_whatever_the_lag() -> None:
    clock = Clock()
    watch = tracker(clock)
    for step in range(10):
        offsets = {TP: Offsets(beginning=0, end=10_000 + step, committed=step * 10)}
        assert watch.observe(group="g", offsets=offsets) == []
        clock.now += 30


def test_an_idle_group_at_the_end_is_not_stalled_when_a_record_arrives() -> None:
    clock = Clock()
    watch = tracker(clock)
    assert watch.observe(group="g", offsets={TP: Offsets(0, 50, 50)}) == []
    clock.now += 3600
    assert watch.observe(group="g", offsets={TP: Offsets(0, 50, 50)}) == []
    clock.now += 1
    assert watch.observe(group="g", offsets={TP: Offsets(0, 51, 50)}) == []
    clock.now += 60
    assert len(watch.observe(group="g", offsets={TP: Offsets(0, 51, 50)})) == 1


def test_nothing_committed_counts_lag_from_the_log_start() -> None:
    clock = Clock()
    watch = tracker(clock)
    never = {TP: Offsets(beginning=40, end=42, committed=None)}
    assert never[TP].lag == 2
    watch.observe(group="g", offsets=never)
    clock.now += 61
    [stall] = watch.observe(group="g", offsets=never)
    assert "lag 2 at no commit" in describe([stall])[0]
    empty = {TP: Offsets(beginning=0, end=0, committed=None)}
    watch.observe(group="e", offsets=empty)
    clock.now += 61
    assert watch.observe(group="e", offsets=empty) == []


def test_the_reason_names_the_group_partitions_lag_and_since_when() -> None:
    clock = Clock()
    watch = tracker(clock)
    offsets = {TopicPartition("t", p): Offsets(0, 1006, 5) for p in range(18)}
    watch.observe(group="audit.ledger", offsets=offsets)
    clock.now += 90
    [reason] = describe(watch.observe(group="audit.ledger", offsets=offsets))
    assert reason.startswith("consumer group audit.ledger stalled on 18 partition(s), lag 18018: ")
    assert "t[0] lag 1001 at offset 5 since 1970-01-01T00:16:40+00:00 (90s)" in reason
    assert reason.endswith(" and 12 more")
