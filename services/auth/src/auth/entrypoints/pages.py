"""The login page's HTML: server-rendered, no scripts, fonts or third-party anything."""

from __future__ import annotations

from html import escape

_STYLE = """
body{font:1.05rem/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#1a1a1a}
main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:.5rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input{font:inherit;width:100%;box-sizing:border-box;padding:.6rem;border:2px solid #555;
border-radius:.3rem}
input:focus,button:focus{outline:3px solid #1d4ed8;outline-offset:2px}
button{font:inherit;margin-top:1rem;padding:.6rem 1.2rem;border:0;border-radius:.3rem;
background:#1d4ed8;color:#fff;cursor:pointer}
.error{color:#9b1c1c;font-weight:600}.hint{color:#444;font-size:.95rem}
"""


def _page(*, title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def _error(message: str | None) -> str:
    if not message:
        return ""
    return f'<p class="error" role="alert" id="error">{escape(message)}</p>'


def _invalid(error: str | None) -> str:
    """A field the error is about: named invalid, described by the error, and focused, so a
    screen reader reads the reason and the person types the correction straight away."""
    return ' aria-describedby="error" aria-invalid="true" autofocus' if error else ""


def phone_page(
    *, csrf: str, next_url: str, error: str | None = None, notice: str | None = None
) -> str:
    """Step 1: the number (`error` is about the number typed, `notice` about the form)."""
    described = _invalid(error)
    return _page(
        title="Log in with your phone",
        body=_error(error or notice)
        + '<form method="post" action="/login">'
        + f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        + f'<input type="hidden" name="next" value="{escape(next_url)}">'
        + '<label for="phone">Phone number, with country code</label>'
        + '<input id="phone" name="phone" type="tel" autocomplete="tel" required '
        + f'maxlength="32" placeholder="+44 7700 900123"{described}>'
        + '<p class="hint">We text you a code. We never store your number.</p>'
        + '<button type="submit">Send code</button></form>',
    )


def code_page(*, csrf: str, next_url: str, challenge: str, error: str | None = None) -> str:
    """Step 2: the code (the number is not in the page; the challenge handle is)."""
    # Focused either way: the person arrives from typing the number and goes on typing.
    described = _invalid(error) or " autofocus"
    return _page(
        title="Enter your code",
        body=_error(error)
        + '<form method="post" action="/login/code">'
        + f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        + f'<input type="hidden" name="next" value="{escape(next_url)}">'
        + f'<input type="hidden" name="challenge" value="{escape(challenge)}">'
        + '<label for="code">The 6-digit code we sent you</label>'
        + '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" '
        + f'pattern="[0-9]{{6}}" maxlength="6" required{described}>'
        + '<button type="submit">Log in</button></form>'
        + '<p class="hint"><a href="/login">Use another number or ask for a new code</a></p>',
    )


def done_page(*, user_hint: str) -> str:
    """Logged in, with nowhere to go next."""
    return _page(
        title="You are logged in",
        body=f"<p>{escape(user_hint)}</p>"
        + '<form method="post" action="/logout"><button type="submit">Log out</button></form>',
    )


def oauth_error_page(*, message: str) -> str:
    """OAuth authorize (H2): why an app's sign-in request cannot go on (no redirect back)."""
    sentence = message[:1].upper() + message[1:]
    return _page(
        title="This sign-in cannot continue",
        body=f'<p class="error" role="alert" id="error">{escape(sentence)}.</p>'
        + '<p class="hint">Go back to the app and start again. If this keeps happening, the '
        + "app may be misconfigured: tell its developer.</p>",
    )
