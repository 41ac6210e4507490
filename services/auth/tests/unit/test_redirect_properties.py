"""Properties of the redirect-URI rules over generated input: only `InvalidApp`, never a crash,
and whatever is accepted is an exact https (or loopback http) URI without fragment or userinfo."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from auth.domain.app_rules import LOOPBACK_HOSTS, MAX_URL_CHARS, InvalidApp, check_redirect_uris

PIECES = st.sampled_from(
    [
        "https://",
        "http://",
        "HTTPS://",
        "javascript:",
        "//",
        "/",
        "@",
        "#",
        ":",
        "?",
        "*",
        "\\",
        "[",
        "]",
        "::1",
        "127.0.0.1",
        "localhost",
        "example.com",
        "a.example",
        ".",
        "-",
        "%2F",
        "user:pw",
        "443",
        "99999",
        " ",
        "\t",
        "é",
        "cb",
        "x=1",
        "&",
    ]
)
SHAPED = st.tuples(
    st.sampled_from(["https://", "http://"]),
    st.sampled_from(["example.com", "a.example", "127.0.0.1", "[::1]", "localhost", "Ex.com"]),
    st.sampled_from(["", ":8080", ":0", ":65536", ":x"]),
    st.lists(PIECES, max_size=4).map("".join),
).map(lambda parts: parts[0] + parts[1] + parts[2] + "/" + parts[3])
URIS = st.one_of(st.text(max_size=60), st.lists(PIECES, max_size=12).map("".join), SHAPED)


@settings(max_examples=1000, deadline=None)
@given(URIS)
def test_only_exact_https_or_loopback_http_uris_pass(uri: str) -> None:
    try:
        accepted = check_redirect_uris([uri])
    except InvalidApp as refused:
        field = refused.field
    else:
        field = ""
    if field:
        assert field.startswith("redirect_uris")
        return
    assert accepted == (uri,)
    parts = urlsplit(uri)
    assert parts.scheme in ("https", "http")
    assert parts.hostname
    if parts.scheme == "http":
        assert parts.hostname in LOOPBACK_HOSTS
    assert "#" not in uri
    assert "@" not in parts.netloc
    assert "*" not in uri
    assert len(uri) <= MAX_URL_CHARS
    assert all(0x21 <= ord(char) <= 0x7E for char in uri)
