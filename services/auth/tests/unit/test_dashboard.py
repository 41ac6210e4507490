"""The privacy dashboard's handlers with fakes of their ports, and its pages' HTML."""

from __future__ import annotations

import pytest
from dashboard_fakes import (
    FakeAccessReports,
    FakeAccountDeleter,
    FakeTermsLinks,
    FakeUserConsents,
    FakeUserTokens,
    consent_row,
    report_row,
)

from auth.entrypoints.pages_dashboard import overview_page
from auth.service.dashboard import Dashboard
from auth.service.dashboard_ports import UpstreamNotFound, UpstreamUnavailable


def _dashboard() -> tuple[Dashboard, FakeUserConsents, FakeAccessReports, FakeAccountDeleter]:
    consents, reports, deleter = FakeUserConsents(), FakeAccessReports(), FakeAccountDeleter()
    consents.by_user["u1"] = [
        consent_row("cn_b", "app_b", status="revoked"),
        consent_row("cn_a", "app_a"),
    ]
    reports.rows["u1"] = [
        report_row("e1", "cn_a", when="2026-12-01T10:01:00Z", verdict="covered"),
        report_row("e2", "cn_a", when="2026-12-01T10:03:00Z", verdict="violation"),
        report_row("e3", "cn_b", when="2026-12-01T10:02:00Z", verdict="covered"),
        report_row("e4", "cn_gone", when="2026-12-01T10:04:00Z", verdict="violation"),
    ]
    dashboard = Dashboard(
        consents=consents,
        reports=reports,
        tokens=FakeUserTokens(),
        terms=FakeTermsLinks({"app_a": "https://a.example/terms"}),
        accounts=deleter,
    )
    return dashboard, consents, reports, deleter


async def test_each_app_gets_its_own_transfers_newest_first_and_active_apps_first() -> None:
    dashboard, consents, reports, _ = _dashboard()
    view = await dashboard.overview(user_key="u1")
    assert [a.consent_id for a in view.apps] == ["cn_a", "cn_b"]
    assert [t.event_id for t in view.apps[0].transfers] == ["e2", "e1"]
    assert [t.event_id for t in view.apps[1].transfers] == ["e3"]
    assert [t.event_id for t in view.other_transfers] == ["e4"]
    assert view.violations == 2
    assert view.apps[0].terms_url == "https://a.example/terms"
    assert view.apps[1].terms_url is None
    # Each upstream call carries the session's own user's token, nobody else's.
    assert reports.tokens == ["token-u1"]
    assert consents.calls == [("list", "token-u1")]


async def test_the_page_marks_violations_and_says_scopes_in_plain_words() -> None:
    dashboard, *_ = _dashboard()
    html = overview_page(
        await dashboard.overview(user_key="u1"),
        csrf="c" * 64,
        audit_url="https://audit.example",
        subject="u1",
    )
    assert html.count('class="violation"') == 2
    assert "Violation: revoked" in html
    assert "See the list of your public videos" in html
    assert '<a href="https://a.example/terms" rel="noreferrer">2026-01</a>' in html
    assert html.count("Revoke access for") == 1  # only the active consent
    assert 'data-audit="https://audit.example"' in html
    assert "<script" in html
    assert "http://" not in html.replace('href="https://', "")  # nothing third-party


async def test_revoke_download_and_delete_go_to_the_user_own_records() -> None:
    dashboard, consents, _, deleter = _dashboard()
    assert (await dashboard.revoke(user_key="u1", consent_id="cn_a"))["status"] == "revoked"
    with pytest.raises(UpstreamNotFound):
        await dashboard.revoke(user_key="u2", consent_id="cn_b")  # another user's id
    with pytest.raises(UpstreamNotFound):
        await dashboard.receipt(user_key="u2", consent_id="cn_a")
    assert await dashboard.receipt(user_key="u1", consent_id="cn_a") == b"receipt-of-cn_a"
    assert [c["status"] for c in await dashboard.revoke_all(user_key="u1")] == ["revoked"] * 2
    report = await dashboard.report(user_key="u1")
    assert len(report["access_report"]["transfers"]) == 4
    assert len(report["consents"]) == 2
    await dashboard.delete_account(user_key="u1")
    assert deleter.deleted == ["u1"]
    consents.down = True
    with pytest.raises(UpstreamUnavailable):
        await dashboard.overview(user_key="u1")
