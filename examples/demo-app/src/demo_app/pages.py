"""Server-rendered pages: one stylesheet inline, no scripts, no third-party anything."""

from __future__ import annotations

import time
from html import escape
from typing import Any

CSS = """
*{box-sizing:border-box}body{margin:0;font:1rem/1.5 system-ui,sans-serif;color:#1a1a1a;
background:#fafafa}header,main,footer{max-width:44rem;margin:0 auto;padding:1rem}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between}
h1{font-size:1.5rem;margin:0}nav a{margin-right:1rem}a{color:#0b4f9c}
a:focus,button:focus,input:focus{outline:3px solid #b35900;outline-offset:2px}
button{font:inherit;padding:.5rem 1rem;border:0;border-radius:.3rem;background:#0b4f9c;color:#fff;
cursor:pointer}section{background:#fff;border:1px solid #ccc;border-radius:.4rem;padding:1rem;
margin:1rem 0;overflow-wrap:anywhere}label{display:block;margin:.5rem 0 .2rem}
input{font:inherit;max-width:100%}.alert{border-color:#a30000;background:#fff0f0}
ul{padding-left:1.2rem}ul.plain{list-style:none;padding:0}
.deletion{border-bottom:1px solid #ddd;padding:.5rem 0}dt{font-weight:600}dd{margin:0 0 .3rem}
"""


def page(title: str, body: str, *, signed_in: bool = False) -> str:
    logout = (
        '<form method="post" action="/logout"><button type="submit">Log out</button></form>'
        if signed_in
        else ""
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Tunetown</title><style>{CSS}</style></head><body>
<header><h1><a href="/">Tunetown</a></h1><nav aria-label="Main"><a href="/">Home</a>
<a href="/deletions">Deletion requests</a></nav>{logout}</header>
<main id="main">{body}</main>
<footer><p>A demo app of the Login Kit and the Sound Kit.</p></footer></body></html>"""


def alert(message: str) -> str:
    return f'<section class="alert" role="alert"><h2>Notice</h2><p>{escape(message)}</p></section>'


def signed_out(notice: str = "") -> str:
    body = (
        (alert(notice) if notice else "")
        + """<section><h2>Welcome</h2>
<p>Tunetown shows your profile and videos and uploads your sounds to the platform,
with your permission.</p><p><a href="/login">Log in with the platform</a></p></section>"""
    )
    return page("Welcome", body)


def home(
    *,
    profile: dict[str, Any],
    videos: list[dict[str, Any]],
    uploads: list[tuple[str, str, str]],
    notice: str = "",
) -> str:
    name = escape(str(profile.get("display_name") or "you"))
    items = (
        "".join(
            f"<li>{escape(str(v.get('title', '')))} ({escape(str(v.get('duration', '')))} s)</li>"
            for v in videos
        )
        or "<li>No public videos.</li>"
    )
    ups = (
        "".join(
            f"<li>{escape(t)}: {escape(s)} <small>({escape(u)})</small></li>" for u, t, s in uploads
        )
        or "<li>No uploads yet.</li>"
    )
    bio = escape(str(profile.get("bio_description") or ""))
    body = (
        (alert(notice) if notice else "")
        + f"""
<section aria-labelledby="p"><h2 id="p">Hello, {name}</h2><p>{bio}</p>
<p>Your id in Tunetown: <code>{escape(str(profile.get("open_id", "")))}</code></p></section>
<section aria-labelledby="v"><h2 id="v">Your public videos</h2><ul>{items}</ul></section>
<section aria-labelledby="u"><h2 id="u">Upload a sound</h2>
<form method="post" action="/upload" enctype="multipart/form-data">
<label for="title">Title</label><input id="title" name="title" maxlength="100" required
value="My Tunetown tone">
<label for="file">Sound file (optional: without one Tunetown makes a 1 second tone)</label>
<input id="file" name="file" type="file" accept="audio/*">
<p><button type="submit">Upload</button></p></form>
<h3>Your uploads</h3><ul>{ups}</ul></section>"""
    )
    return page("Home", body, signed_in=True)


def deletions(rows: list[tuple[str, str, str, float, int]]) -> str:
    """One entry per request (a list, not a table: it stays readable at 360 px)."""
    items = "".join(
        f'<li class="deletion"><dl><dt>Request</dt><dd><code>{escape(r)}</code></dd>'
        f"<dt>User (Tunetown id)</dt><dd><code>{escape(s)}</code></dd>"
        f"<dt>Reason</dt><dd>{escape(why)}</dd>"
        f"<dt>Received</dt><dd>{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(at))} UTC</dd>"
        f"<dt>Rows deleted</dt><dd>{n}</dd></dl></li>"
        for r, s, why, at, n in rows
    )
    listing = f'<ul class="plain">{items}</ul>' if rows else "<p>No deletion requests yet.</p>"
    return page("Deletion requests", f"<section><h2>Deletion requests</h2>{listing}</section>")


def error(title: str, message: str) -> str:
    return page(title, alert(message) + '<p><a href="/">Back to Tunetown</a></p>')
