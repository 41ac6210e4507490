"""The registry's domain rules: URLs, redirect URIs, scopes, text, and the changes allowed."""

from __future__ import annotations

import dataclasses

import pytest
from redirect_cases import ACCEPTED, REFUSED

from auth.domain.app_rules import (
    MAX_REDIRECT_URIS,
    InvalidApp,
    check_recipients,
    check_redirect_uris,
    check_retention,
    check_scopes,
    check_text,
    check_url,
)
from auth.domain.apps import (
    MAX_TERMS_VERSIONS,
    AppChanges,
    AppFields,
    Terms,
    apply_changes,
    apply_terms,
    new_app,
    with_secret,
)
from auth.domain.scopes import CATALOGUE, SCOPES, describe

TERMS = Terms(url="https://t.example/terms", version="v1", recipients=("T Ltd",), retention_days=7)
FIELDS = AppFields(
    name="T",
    client_type="confidential",
    redirect_uris=("https://t.example/cb",),
    allowed_scopes=("user.info.basic",),
    terms=TERMS,
    privacy_policy_url="https://t.example/privacy",
    deletion_webhook_url="https://t.example/delete",
)


def _app(fields: AppFields = FIELDS, *, secret: str | None = "0" * 64, loopback: bool = False):  # type: ignore[no-untyped-def]
    return new_app(
        fields,
        client_id="app_1",
        developer_id="dev_1",
        developer_name="D",
        secret_sha256=secret,
        now=1.0,
        allow_http_loopback=loopback,
    )


@pytest.mark.parametrize("uri", ACCEPTED)
def test_exact_https_and_loopback_http_redirect_uris_are_kept_as_given(uri: str) -> None:
    assert check_redirect_uris([uri]) == (uri,)


@pytest.mark.parametrize(("uri", "reason"), REFUSED, ids=[u[:40] for u, _ in REFUSED])
def test_each_redirect_uri_rule_refuses_with_its_reason(uri: str, reason: str) -> None:
    with pytest.raises(InvalidApp) as refused:
        check_redirect_uris(["https://ok.example/cb", uri])
    assert refused.value.field == "redirect_uris[1]"
    assert reason in refused.value.reason


def test_the_list_of_redirect_uris_is_bounded_and_without_duplicates() -> None:
    with pytest.raises(InvalidApp, match="1 to"):
        check_redirect_uris([])
    many = [f"https://t.example/cb{i}" for i in range(MAX_REDIRECT_URIS + 1)]
    with pytest.raises(InvalidApp, match="1 to"):
        check_redirect_uris(many)
    with pytest.raises(InvalidApp, match="each URI once"):
        check_redirect_uris(["https://t.example/cb", "https://t.example/cb"])


def test_http_loopback_urls_other_than_redirects_only_in_development() -> None:
    url = "http://127.0.0.1:9000/delete"
    assert check_url(url, field="w", allow_fragment=False, allow_http_loopback=True) == url
    with pytest.raises(InvalidApp, match="in development"):
        check_url(url, field="w", allow_fragment=False, allow_http_loopback=False)
    page = "https://t.example/terms#section-2"
    assert check_url(page, field="t", allow_fragment=True) == page


def test_scopes_come_from_the_catalogue_once_each() -> None:
    assert check_scopes(["video.list", "sound.share"]) == ("video.list", "sound.share")
    with pytest.raises(InvalidApp, match=r"'user\.email'"):
        check_scopes(["user.info.basic", "user.email"])
    with pytest.raises(InvalidApp, match=r"catalogue: 2 malformed$"):
        check_scopes(["+4915112345678", "User Info"])
    with pytest.raises(InvalidApp, match="at least one"):
        check_scopes([])
    with pytest.raises(InvalidApp, match="once"):
        check_scopes(["video.list", "video.list"])


def test_the_catalogue_names_the_six_scopes_in_plain_words() -> None:
    names = {scope.name for scope in CATALOGUE}
    assert names == {
        "user.info.basic",
        "user.info.profile",
        "user.info.stats",
        "video.list",
        "sound.upload",
        "sound.share",
    }
    assert all(len(describe(name).split()) >= 5 for name in SCOPES)


def test_text_recipients_and_retention_are_bounded() -> None:
    with pytest.raises(InvalidApp, match="not blank"):
        check_text("   ", field="name", max_chars=10)
    with pytest.raises(InvalidApp, match="control"):
        check_text("a\u202eb", field="name", max_chars=10)
    with pytest.raises(InvalidApp, match="once"):
        check_recipients(["A", "A"])
    with pytest.raises(InvalidApp, match="at most"):
        check_recipients([f"R{i}" for i in range(21)])
    assert check_retention(0) == 0
    for bad in (-1, 36_501, True):
        with pytest.raises(InvalidApp, match="retention_days"):
            check_retention(bad)


def test_a_confidential_client_needs_a_secret_and_a_public_one_has_none() -> None:
    with pytest.raises(InvalidApp, match="secret"):
        _app(secret=None)
    public = dataclasses.replace(FIELDS, client_type="public")
    with pytest.raises(InvalidApp, match="secret"):
        _app(public)
    with pytest.raises(InvalidApp, match="no secret to rotate"):
        with_secret(_app(public, secret=None), "1" * 64, now=2.0)


def test_a_change_reports_only_the_fields_that_differ() -> None:
    app = _app()
    same, changed = apply_changes(app, AppChanges(name="T"), now=2.0, allow_http_loopback=False)
    assert (same, changed) == (app, ())
    new, changed = apply_changes(
        app,
        AppChanges(name="T2", redirect_uris=("https://t.example/cb2",)),
        now=2.0,
        allow_http_loopback=False,
    )
    assert changed == ("name", "redirect_uris")
    assert new.redirect_uris == ("https://t.example/cb2",)
    assert new.updated_at == 2.0
    with pytest.raises(InvalidApp, match="redirect_uris"):
        apply_changes(
            app, AppChanges(redirect_uris=("http://x.example/",)), now=2.0, allow_http_loopback=True
        )


def test_terms_versions_never_come_back() -> None:
    app = _app()
    v2 = apply_terms(
        app, dataclasses.replace(TERMS, version="v2"), now=2.0, allow_http_loopback=False
    )
    assert v2.terms.version == "v2"
    assert v2.earlier_terms_versions == ("v1",)
    for used in ("v1", "v2"):
        with pytest.raises(InvalidApp, match="already used"):
            apply_terms(
                v2, dataclasses.replace(TERMS, version=used), now=3.0, allow_http_loopback=False
            )
    full = dataclasses.replace(
        app, earlier_terms_versions=tuple(f"old{i}" for i in range(MAX_TERMS_VERSIONS - 1))
    )
    with pytest.raises(InvalidApp, match="at most"):
        apply_terms(
            full, dataclasses.replace(TERMS, version="new"), now=3.0, allow_http_loopback=False
        )
