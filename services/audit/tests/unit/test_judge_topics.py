"""Which topics a verdict waits for: the ledger's own consent and terms topics, whatever they are
named (a ledger over other topics once waited for `consent.events` it never read: every verdict
stayed pending)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from audit.config import AuditSettings
from audit.service.judge import Judge
from audit.service.ports import PendingPage, UserWork

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def settings(**values: str) -> AuditSettings:
    return AuditSettings(environment="development", **values)  # type: ignore[arg-type]


def test_the_default_ledger_waits_for_consent_events_and_auth_events() -> None:
    s = settings()
    assert s.judge_consent_topic_names == ("consent.events",)
    assert s.judge_terms_topic_names == ("auth.events",)


def test_a_ledger_over_prefixed_topics_waits_for_its_own() -> None:
    s = settings(ledger_topics="eu.auth.events,eu.consent.events,eu.transfer.events")
    assert s.judge_consent_topic_names == ("eu.consent.events",)
    assert s.judge_terms_topic_names == ("eu.auth.events",)


def test_a_ledger_without_consent_or_terms_topics_waits_for_none() -> None:
    s = settings(ledger_topics="bench.ledger")
    assert s.judge_consent_topic_names == s.judge_terms_topic_names == ()


def test_named_judge_topics_are_used_as_named() -> None:
    s = settings(ledger_topics="a,b,c", judge_consent_topics="a", judge_terms_topics="b")
    assert (s.judge_consent_topic_names, s.judge_terms_topic_names) == (("a",), ("b",))


@pytest.mark.parametrize("name", ["judge_consent_topics", "judge_terms_topics"])
def test_a_judge_topic_the_ledger_does_not_read_is_refused_at_start(name: str) -> None:
    with pytest.raises(ValidationError, match="not among the ledger topics"):
        settings(ledger_topics="a,b", **{name: "consent.events"})


class Progress:
    """Every partition of `read` is stored up to now; nothing else is."""

    def __init__(self, read: tuple[str, ...]) -> None:
        self.read = read

    def partition(self, key: str) -> int:
        del key
        return 0

    async def offsets(self) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        ends = {(t, 0): 10 for t in self.read}
        return ends, dict(ends)


async def ready(judge: Judge, progress: Progress) -> bool:
    ends, committed = await progress.offsets()
    judge._marks.observe(
        now=(NOW + timedelta(seconds=1)).timestamp(), ends=ends, committed=committed
    )
    page = PendingPage("p", [UserWork("alice", ("app_1",), NOW)], [])
    return judge._ready(page)


async def test_the_judge_waits_for_the_topics_it_is_given() -> None:
    progress = Progress(read=("t-consent", "t-auth"))
    mine = Judge(
        facts=None,  # type: ignore[arg-type]
        publisher=None,  # type: ignore[arg-type]
        progress=progress,
        consent_topics=("t-consent",),
        terms_topics=("t-auth",),
    )
    assert await ready(mine, progress)
    named = Judge(facts=None, publisher=None, progress=progress)  # type: ignore[arg-type]
    assert not await ready(named, progress)  # waits for consent.events, which nobody read
    nothing = Judge(
        facts=None,  # type: ignore[arg-type]
        publisher=None,  # type: ignore[arg-type]
        progress=Progress(read=()),
        consent_topics=(),
        terms_topics=(),
    )
    assert await ready(nothing, Progress(read=()))
