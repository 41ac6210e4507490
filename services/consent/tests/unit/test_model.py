"""The consent record's rules (pure domain, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consent.domain.model import (
    Consent,
    ScopesNotAllowed,
    Terms,
    check_request,
    decide,
    first_consent_id,
    grant,
    invalidate,
    next_consent_id,
    revoke,
)

T1 = Terms("t1", ("r.example",), 30)
T2 = Terms("t2", ("r.example", "s.example"), 60)
AT = datetime(2026, 12, 1, tzinfo=UTC)


def granted(scopes: tuple[str, ...] = ("video.list",), terms: Terms = T1) -> Consent:
    c = grant(
        None,
        user_key="u",
        app_id="a",
        scopes=scopes,
        purpose="p",
        terms=terms,
        pairwise_subject="ps",
        at=AT,
    )
    assert c is not None
    return c


def test_a_first_grant_is_version_one_of_the_pairs_first_consent() -> None:
    c = granted(("video.list", "user.info.basic", "video.list"))
    assert (c.consent_id, c.version, c.status, c.change) == (
        first_consent_id(user_key="u", app_id="a"),
        1,
        "active",
        "granted",
    )
    assert c.scopes == ("user.info.basic", "video.list")  # sorted, once each
    assert first_consent_id(user_key="u", app_id="b") != c.consent_id


def test_the_same_grant_again_changes_nothing_and_another_renews() -> None:
    c = granted()
    later = AT + timedelta(seconds=1)
    same = dict(user_key="u", app_id="a", purpose="p", terms=T1, pairwise_subject="ps", at=later)
    assert grant(c, scopes=("video.list",), **same) is None  # type: ignore[arg-type]
    renewed = grant(c, scopes=("user.info.basic",), **same)  # type: ignore[arg-type]
    assert renewed is not None
    assert (renewed.consent_id, renewed.version, renewed.change) == (c.consent_id, 2, "renewed")
    assert (renewed.granted_at, renewed.changed_at) == (AT, later)


def test_revoke_once_then_a_grant_starts_the_next_consent() -> None:
    c = granted()
    revoked = revoke(c, reason="user", at=AT)
    assert revoked is not None
    assert (revoked.version, revoked.status, revoked.reason) == (2, "revoked", "user")
    assert revoke(revoked, reason="user", at=AT) is None  # one effect
    again = grant(
        revoked,
        user_key="u",
        app_id="a",
        scopes=("video.list",),
        purpose="p",
        terms=T1,
        pairwise_subject="ps",
        at=AT,
    )
    assert again is not None
    assert (again.consent_id, again.version, again.change) == (
        next_consent_id(c.consent_id),
        1,
        "granted",
    )


def test_invalidation_only_of_an_active_consent_under_other_terms() -> None:
    c = granted()
    assert invalidate(c, new_terms_version="t1", at=AT) is None
    gone = invalidate(c, new_terms_version="t2", at=AT)
    assert gone is not None
    assert (gone.status, gone.version, gone.reason, gone.terms) == ("invalidated", 2, "t2", T1)
    assert invalidate(gone, new_terms_version="t3", at=AT) is None
    renewed = grant(
        gone,
        user_key="u",
        app_id="a",
        scopes=("video.list",),
        purpose="p",
        terms=T2,
        pairwise_subject="ps",
        at=AT,
    )
    assert renewed is not None
    assert (renewed.status, renewed.change, renewed.terms) == ("active", "renewed", T2)


def test_decide() -> None:
    c = granted(("user.info.basic", "video.list"))
    assert decide(None, scopes=("video.list",), current_terms="t1").reason == "no_consent"
    ok = decide(c, scopes=("video.list",), current_terms="t1")
    assert (ok.allowed, ok.consent_id, ok.version, ok.terms_version) == (
        True,
        c.consent_id,
        1,
        "t1",
    )
    assert decide(c, scopes=("sound.share",), current_terms="t1").reason == "scope_not_granted"
    assert decide(c, scopes=(), current_terms="t1").reason == "scope_not_granted"
    assert decide(c, scopes=("video.list",), current_terms="t2").reason == "terms_changed"
    assert decide(c, scopes=("video.list",), current_terms=None).reason == "unknown_app"
    revoked = revoke(c, reason="user", at=AT)
    assert decide(revoked, scopes=("video.list",), current_terms="t1").reason == "revoked"


def test_a_grant_names_only_scopes_the_app_may_ask_for() -> None:
    check_request(scopes=("video.list",), allowed=("video.list", "user.info.basic"))
    with pytest.raises(ScopesNotAllowed, match=r"sound\.share"):
        check_request(scopes=("video.list", "sound.share"), allowed=("video.list",))
    with pytest.raises(ScopesNotAllowed):
        check_request(scopes=(), allowed=("video.list",))
