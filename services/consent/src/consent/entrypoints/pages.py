"""The consent screen's HTML: server-rendered, no scripts, fonts or third-party anything."""

from __future__ import annotations

from html import escape

from consent.service.screen import ScreenView

_STYLE = """
body{font:1.05rem/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#1a1a1a}
main{max-width:34rem;margin:1.5rem auto;padding:1.25rem 1.5rem;background:#fff;border-radius:.5rem}
h1{font-size:1.4rem;margin-top:0}h2{font-size:1.05rem;margin:1.2rem 0 .3rem}
ul{padding-left:1.2rem;margin:.3rem 0}li{margin:.25rem 0}
a{color:#1d4ed8}.scope{font-family:ui-monospace,monospace;font-size:.9rem;color:#444}
.actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:1.5rem}
button{font:inherit;padding:.65rem 1.3rem;border-radius:.3rem;cursor:pointer;
border:2px solid #1d4ed8}
button.allow{background:#1d4ed8;color:#fff}button.deny{background:#fff;color:#1d4ed8}
button:focus,a:focus{outline:3px solid #b45309;outline-offset:2px}
.error{color:#9b1c1c;font-weight:600}
"""


def _page(*, title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def consent_page(view: ScreenView, *, token: str) -> str:
    """The request: the app, each scope in plain words, terms, recipients, retention."""
    app = view.app
    scopes = "".join(
        f'<li>{escape(words)} <span class="scope">({escape(name)})</span></li>'
        for name, words in view.scopes
    )
    recipients = (
        "<ul>" + "".join(f"<li>{escape(r)}</li>" for r in app.recipients) + "</ul>"
        if app.recipients
        else "<p>Nobody: the app declares it passes your data to no one else.</p>"
    )
    body = (
        f"<h1>{escape(app.name)} wants to use your account</h1>"
        f"<p>{escape(view.challenge.purpose)}</p>"
        '<h2 id="asks">It asks to</h2>'
        f'<ul aria-labelledby="asks">{scopes}</ul>'
        "<h2>It passes your data on to</h2>"
        f"{recipients}"
        "<h2>It keeps your data for</h2>"
        f"<p>{app.retention_days} days at most, and deletes it when you withdraw this consent.</p>"
        "<h2>Its terms</h2>"
        f'<p><a href="{escape(app.terms_url)}" rel="noopener noreferrer">'
        f"Terms, version {escape(app.terms_version)}</a>"
        + (
            f' · <a href="{escape(app.privacy_policy_url)}" rel="noopener noreferrer">'
            "Privacy policy</a>"
            if app.privacy_policy_url
            else ""
        )
        + "</p>"
        + '<form method="post" action="/consent">'
        f'<input type="hidden" name="challenge" value="{escape(token)}">'
        '<div class="actions">'
        '<button class="allow" type="submit" name="decision" value="allow">Allow</button>'
        '<button class="deny" type="submit" name="decision" value="deny">Deny</button>'
        "</div></form>"
        "<p>You can withdraw this consent at any time from your privacy dashboard.</p>"
    )
    return _page(title=f"Allow {app.name}?", body=body)


def error_page(*, message: str) -> str:
    """A request that cannot be answered: why, and what to do."""
    body = (
        "<h1>This consent request cannot be used</h1>"
        f'<p class="error" role="alert">{escape(message)}.</p>'
        "<p>Nothing was recorded. Go back to the app and start again.</p>"
    )
    return _page(title="Consent request refused", body=body)
