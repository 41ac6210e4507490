"""The privacy dashboard's HTML: server-rendered, the project's own script only (Verify)."""

from __future__ import annotations

from html import escape

from auth.domain.scopes import SCOPES
from auth.service.dashboard import ConnectedApp, Overview, Transfer

_STYLE = """
body{font:1rem/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#1a1a1a}
header,main,footer{max-width:48rem;margin:0 auto;padding:0 1rem}
main{overflow-wrap:anywhere}
header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem}
section.app{background:#fff;border-radius:.5rem;padding:1rem;margin:1rem 0;border:1px solid #ccc}
h2{margin:.2rem 0}h3{font-size:1.05rem;margin:1rem 0 .3rem}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem .8rem;margin:.5rem 0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
ul.scopes{margin:.2rem 0;padding-left:1.2rem}
ol.timeline{list-style:none;padding:0;margin:0}
ol.timeline li{border-left:4px solid #1d4ed8;padding:.4rem .6rem;margin:.4rem 0;background:#f3f6fd}
ol.timeline li.violation{border-color:#9b1c1c;background:#fdf0f0}
.badge{display:inline-block;font-weight:700;padding:0 .4rem;border-radius:.2rem}
.violation .badge{background:#9b1c1c;color:#fff}.status-active{color:#0f5e1e;font-weight:700}
.status-other{color:#5a3a00;font-weight:700}
a{color:#1d4ed8}button,.button{font:inherit;padding:.5rem 1rem;border:0;border-radius:.3rem;
background:#1d4ed8;color:#fff;cursor:pointer;text-decoration:none;display:inline-block;
margin:.2rem 0}
button.danger,.button.danger{background:#9b1c1c}button.secondary,.button.secondary{background:#374151}
a:focus,button:focus,.button:focus{outline:3px solid #1d4ed8;outline-offset:2px}
form{display:inline}.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.6rem}
.result{font-weight:600}.ok{color:#0f5e1e}.failed{color:#9b1c1c}.error{color:#9b1c1c;font-weight:600}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.3rem}
"""


def page(
    *,
    title: str,
    body: str,
    script: bool = False,
    audit_url: str = "",
    subject: str = "",
    logged_in: bool = True,
) -> str:
    """One dashboard page: landmarks, a skip link, the page's own style and script."""
    js = ""
    if script:
        js = (
            '<script type="module" src="/account/static/dashboard.js" '
            f'data-audit="{escape(audit_url)}" data-subject="{escape(subject)}"></script>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style>{js}</head><body>"
        '<a class="skip" href="#main">Skip to content</a>'
        "<header><p><strong>Your privacy</strong></p>"
        + (_LOGOUT if logged_in else "")
        + "</header>"
        f'<main id="main" tabindex="-1"><h1>{escape(title)}</h1>{body}</main>'
        '<footer><p><a href="/account">Back to your apps</a></p></footer></body></html>'
    )


_LOGOUT = (
    '<form method="post" action="/logout"><button class="secondary" type="submit">'
    "Log out</button></form>"
)


def _csrf(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{escape(token)}">'


def _scopes(names: tuple[str, ...]) -> str:
    items = "".join(
        f"<li>{escape(SCOPES[n].description if n in SCOPES else n)}</li>" for n in names
    )
    return f'<ul class="scopes">{items}</ul>'


def _when(iso: str) -> str:
    return escape(iso.replace("T", " ")[:19] + " UTC" if "T" in iso else iso)


def _transfer(t: Transfer, *, n: str) -> str:
    violation = t.verdict == "violation"
    label = {"covered": "Covered by your consent", "pending": "Being checked"}.get(t.verdict, "")
    if violation:
        label = f"Violation: {(t.violation_reason or 'not covered').replace('_', ' ')}"
    fields = ", ".join(t.fields) or "none"
    return (
        f'<li class="{"violation" if violation else "covered"}" id="t-{n}">'
        f'<p><span class="badge">{escape(label)}</span> '
        f'<time datetime="{escape(t.released_at)}">{_when(t.released_at)}</time></p>'
        f"<p>Fields: {escape(fields)}<br>Under consent {escape(t.consent_id)}"
        f" (version {t.consent_version})</p>"
        f'<button type="button" class="verify secondary" data-event="{escape(t.event_id)}" '
        f'aria-describedby="r-{n}">Verify this transfer</button> '
        f'<span class="result" id="r-{n}" role="status" aria-live="polite"></span></li>'
    )


def _timeline(transfers: tuple[Transfer, ...], *, prefix: str) -> str:
    if not transfers:
        return "<p>No data has been sent under this consent.</p>"
    items = "".join(_transfer(t, n=f"{prefix}-{i}") for i, t in enumerate(transfers))
    return f'<ol class="timeline">{items}</ol>'


def _app(a: ConnectedApp, *, n: int, csrf: str) -> str:
    status = "status-active" if a.active else "status-other"
    terms = escape(a.terms_version)
    if a.terms_url:
        terms = f'<a href="{escape(a.terms_url)}" rel="noreferrer">{terms}</a>'
    recipients = ", ".join(a.recipients) or "nobody else"
    revoke = ""
    if a.active:
        revoke = (
            f'<form method="post" action="/account/consents/{escape(a.consent_id)}/revoke">'
            f'{_csrf(csrf)}<button class="danger" type="submit">'
            f"Revoke access for {escape(a.app_name)}</button></form>"
        )
    return (
        f'<section class="app" aria-labelledby="app-{n}"><h2 id="app-{n}">{escape(a.app_name)}</h2>'
        f'<p>Status: <span class="{status}">{escape(a.status)}</span></p>'
        "<dl>"
        f"<dt>It may</dt><dd>{_scopes(a.scopes)}</dd>"
        f"<dt>Purpose</dt><dd>{escape(a.purpose)}</dd>"
        f"<dt>Terms</dt><dd>version {terms}</dd>"
        f"<dt>Shares with</dt><dd>{escape(recipients)}</dd>"
        f"<dt>Keeps data</dt><dd>{a.retention_days} days</dd>"
        f"<dt>Since</dt><dd>{_when(a.granted_at)}</dd>"
        "</dl>"
        f'<div class="actions"><a class="button secondary" '
        f'href="/account/consents/{escape(a.consent_id)}/receipt" download>'
        f'Download consent receipt<span class="skip"> for {escape(a.app_name)}</span></a>'
        f"{revoke}</div>"
        f"<h3>What {escape(a.app_name)} received</h3>{_timeline(a.transfers, prefix=str(n))}"
        "</section>"
    )


def overview_page(view: Overview, *, csrf: str, audit_url: str, subject: str) -> str:
    """The dashboard: every connected app, its transfers, and the controls."""
    apps = "".join(_app(a, n=i, csrf=csrf) for i, a in enumerate(view.apps))
    if not view.apps:
        apps = "<p>You have not connected any app.</p>"
    summary = (
        f"<p>{len(view.apps)} app consent(s); "
        f"{view.violations} transfer(s) not covered by a consent.</p>"
    )
    other = ""
    if view.other_transfers:
        other = (
            '<section class="app" aria-labelledby="other"><h2 id="other">Other transfers</h2>'
            + _timeline(view.other_transfers, prefix="o")
            + "</section>"
        )
    controls = (
        '<section aria-labelledby="controls"><h2 id="controls">Your controls</h2>'
        '<div class="actions"><a class="button secondary" href="/account/report.json" download>'
        "Download the whole report (JSON)</a>"
        f'<form method="post" action="/account/revoke-all">{_csrf(csrf)}'
        '<button class="danger" type="submit">Revoke every app</button></form>'
        '<a class="button danger" href="/account/delete">Delete my account</a></div></section>'
    )
    return page(
        title="Apps connected to your account",
        body=summary + apps + other + controls,
        script=True,
        audit_url=audit_url,
        subject=subject,
    )


def revoked_page(*, names: list[str]) -> str:
    """The result of a revoke."""
    if not names:
        body = '<p role="status">There was nothing left to revoke.</p>'
    else:
        items = "".join(f"<li>{escape(n)}</li>" for n in names)
        body = (
            '<p role="status">Access revoked. These apps can no longer get your data:</p>'
            f"<ul>{items}</ul>"
        )
    return page(title="Access revoked", body=body)


def delete_page(*, csrf: str) -> str:
    """The confirm step of account deletion."""
    return page(
        title="Delete your account",
        body="<p>This deletes your account: your profile and videos, your sessions, and the "
        "link from your phone number to you. Every app loses access and is asked to delete "
        "what it holds. The audit ledger keeps its records, which no longer point to you.</p>"
        f'<form method="post" action="/account/delete">{_csrf(csrf)}'
        '<label><input type="checkbox" name="confirm" value="yes" required> '
        "I understand this cannot be undone</label><br>"
        '<button class="danger" type="submit">Delete my account</button></form>',
    )


def deleted_page() -> str:
    """After deletion (no session any more)."""
    return page(
        title="Your account is deleted",
        body='<p role="status">Your account is deleted and you are logged out.</p>'
        '<p><a href="/login">Log in again</a> (a new, unrelated account).</p>',
        logged_in=False,
    )


def error_page(*, title: str, message: str) -> str:
    """A clear error (bad input, someone else's ids, an upstream away)."""
    return page(title=title, body=f'<p class="error" role="alert">{escape(message)}</p>')
