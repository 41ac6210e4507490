"""The flow cookie as the authorize and callback answers set and clear it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from auth.config import AuthSettings
from auth.entrypoints.http_authorize import _respond
from auth.service.authorize import ErrorPage, Redirect


def container(**settings: Any) -> Any:
    return SimpleNamespace(settings=AuthSettings(environment="development", **settings))


def test_the_flow_cookie_is_httponly_lax_secure_and_lives_as_long_as_the_challenge() -> None:
    answer = _respond(container(), Redirect("https://consent.test/consent?c=1", flow_nonce="n1"))
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("kits_flow=n1;")
    for attribute in ("HttpOnly", "Max-Age=120", "Path=/", "SameSite=lax", "Secure"):
        assert attribute in cookie
    assert "Domain" not in cookie  # host-only by default


def test_a_parent_domain_can_be_named_for_sibling_hosts() -> None:
    c = container(flow_cookie_domain="kits.example")
    assert (
        "Domain=kits.example" in _respond(c, Redirect("/x", flow_nonce="n")).headers["set-cookie"]
    )
    cleared = _respond(c, ErrorPage(410, "gone", end_flow=True)).headers["set-cookie"]
    assert "Domain=kits.example" in cleared
    assert "Max-Age=0" in cleared


def test_an_answer_that_does_not_end_the_flow_leaves_the_cookie() -> None:
    assert "set-cookie" not in _respond(container(), ErrorPage(400, "forged")).headers


@pytest.mark.parametrize("domain", ["kits", ".kits.example", "Kits.Example", "a b.example"])
def test_a_malformed_cookie_domain_is_refused(domain: str) -> None:
    with pytest.raises(ValueError, match="flow_cookie_domain"):
        AuthSettings(environment="development", flow_cookie_domain=domain)
