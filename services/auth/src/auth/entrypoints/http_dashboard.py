"""The privacy dashboard's pages under `/account` (issue 19): server-rendered, after phone login.

No live session: `303` to the login page, which comes back here. Every form is a POST whose
`csrf` field must equal an HMAC of the session cookie (the other site never sees the cookie),
on top of the cookie's `SameSite=Lax`. Bad input of any kind is an error page, never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from importlib import resources
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from auth.entrypoints import pages_dashboard as pages
from auth.entrypoints.deps import Deps
from auth.service.dashboard_ports import UpstreamNotFound, UpstreamUnavailable
from auth.service.ports import Session
from shared.kafka.publisher import PublishFailed

router = APIRouter(tags=["dashboard"])
CONSENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
STATIC = {"ledger-verify.js", "dashboard.js"}
AnyForm = Annotated[str, Form()]  # checked here, so an oversize value is an error page, not a 422


def _csp(c: Deps) -> str:
    # The script fetches a fresh user token from this origin and the ledger from the audit.
    return (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
        f"connect-src 'self' {c.settings.audit_origin}; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def _html(c: Deps, body: str, *, status_code: int = 200) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = _csp(c)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _error(c: Deps, code: int, title: str, message: str) -> HTMLResponse:
    response = _html(c, pages.error_page(title=title, message=message), status_code=code)
    if code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response.headers["Retry-After"] = "1"
    return response


def _cookie(c: Deps, request: Request) -> str:
    return request.cookies.get(c.settings.session_cookie, "")


def csrf_of(cookie: str) -> str:
    """The form token of a session: only a page that can read the cookie's effect has it."""
    return hmac.new(cookie.encode(), b"kits-dashboard-csrf", hashlib.sha256).hexdigest()


async def _session(c: Deps, request: Request) -> Session | None:
    return await c.sessions.resolve(_cookie(c, request))


def _to_login(path: str) -> Response:
    return RedirectResponse(f"/login?next={quote(path)}", status_code=status.HTTP_303_SEE_OTHER)


def _csrf_ok(c: Deps, request: Request, sent: str) -> bool:
    return len(sent) == 64 and hmac.compare_digest(csrf_of(_cookie(c, request)), sent)


def _upstream(c: Deps, exc: Exception) -> HTMLResponse:
    if isinstance(exc, UpstreamNotFound):
        return _error(c, 404, "Not found", "You have no consent with this id.")
    return _error(
        c, 503, "Please try again", "We could not reach your records just now. Try again."
    )


@router.get("/account", response_class=HTMLResponse)
async def account(c: Deps, request: Request) -> Response:
    """The dashboard: connected apps, what each received, and the user's controls."""
    session = await _session(c, request)
    if session is None:
        return _to_login("/account")
    try:
        view = await c.dashboard.overview(user_key=session.user_key)
    except (UpstreamUnavailable, UpstreamNotFound) as exc:
        return _upstream(c, exc)
    page = pages.overview_page(
        view,
        csrf=csrf_of(_cookie(c, request)),
        audit_url=c.settings.audit_url.rstrip("/"),
        subject=session.user_key,
    )
    return _html(c, page)


@router.get("/account/static/{name}")
async def static(c: Deps, name: str) -> Response:
    """The page's own scripts (the ledger verifier and the buttons that run it)."""
    if name not in STATIC:
        return _error(c, 404, "Not found", "There is no such file.")
    body = resources.files("auth.entrypoints").joinpath("static", name).read_bytes()
    response = Response(body, media_type="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/account/report.json")
async def report(c: Deps, request: Request) -> Response:
    """The whole access report and every consent, as a JSON download."""
    session = await _session(c, request)
    if session is None:
        return _to_login("/account")
    try:
        body = await c.dashboard.report(user_key=session.user_key)
    except (UpstreamUnavailable, UpstreamNotFound) as exc:
        return _upstream(c, exc)
    response = Response(json.dumps(body, indent=2).encode(), media_type="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="privacy-report.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/account/consents/{consent_id}/receipt")
async def receipt(c: Deps, request: Request, consent_id: str) -> Response:
    """Download a consent receipt (a JWS signed by consent)."""
    session = await _session(c, request)
    if session is None:
        return _to_login("/account")
    if not CONSENT_ID.fullmatch(consent_id):
        return _error(c, 404, "Not found", "You have no consent with this id.")
    try:
        body = await c.dashboard.receipt(user_key=session.user_key, consent_id=consent_id)
    except (UpstreamUnavailable, UpstreamNotFound) as exc:
        return _upstream(c, exc)
    response = Response(body, media_type="application/jose")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{consent_id}.jws"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/consents/{consent_id}/revoke", response_class=HTMLResponse)
async def revoke(c: Deps, request: Request, consent_id: str, csrf: AnyForm = "") -> Response:
    """Revoke one app's consent; shows the result."""
    session = await _session(c, request)
    if session is None:
        return _to_login("/account")
    if not _csrf_ok(c, request, csrf):
        return _expired(c)
    if not CONSENT_ID.fullmatch(consent_id):
        return _error(c, 404, "Not found", "You have no consent with this id.")
    try:
        done = await c.dashboard.revoke(user_key=session.user_key, consent_id=consent_id)
    except (UpstreamUnavailable, UpstreamNotFound) as exc:
        return _upstream(c, exc)
    name = str(done.get("app_name") or done.get("app_id", ""))
    return _html(c, pages.revoked_page(names=[name]))


@router.post("/account/revoke-all", response_class=HTMLResponse)
async def revoke_all(c: Deps, request: Request, csrf: AnyForm = "") -> Response:
    """Revoke every app's consent; shows the result."""
    session = await _session(c, request)
    if session is None:
        return _to_login("/account")
    if not _csrf_ok(c, request, csrf):
        return _expired(c)
    try:
        done = await c.dashboard.revoke_all(user_key=session.user_key)
    except (UpstreamUnavailable, UpstreamNotFound) as exc:
        return _upstream(c, exc)
    names = [str(x.get("app_name") or x.get("app_id", "")) for x in done]
    return _html(c, pages.revoked_page(names=names))


@router.get("/account/delete", response_class=HTMLResponse)
async def delete_confirm(c: Deps, request: Request) -> Response:
    """The confirm step of account deletion."""
    if await _session(c, request) is None:
        return _to_login("/account/delete")
    return _html(c, pages.delete_page(csrf=csrf_of(_cookie(c, request))))


@router.post("/account/delete", response_class=HTMLResponse)
async def delete(c: Deps, request: Request, csrf: AnyForm = "", confirm: AnyForm = "") -> Response:
    """Delete the account (event first, then every trace in auth; sessions end)."""
    session = await _session(c, request)
    if session is None:
        return _to_login("/account/delete")
    if not _csrf_ok(c, request, csrf):
        return _expired(c)
    if confirm != "yes":
        page = pages.delete_page(csrf=csrf)
        return _html(c, page, status_code=status.HTTP_400_BAD_REQUEST)
    try:
        await c.dashboard.delete_account(user_key=session.user_key)
    except PublishFailed:
        return _error(c, 503, "Please try again", "Nothing was deleted. Try again in a moment.")
    response = _html(c, pages.deleted_page())
    response.delete_cookie(c.settings.session_cookie, path="/")
    return response


@router.api_route("/account/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
async def unknown(c: Deps, rest: str) -> Response:
    """Any other address under /account: a page that says so (registered last)."""
    del rest
    return _error(c, 404, "Not found", "There is no such page. Go back to your apps.")


def _expired(c: Deps) -> HTMLResponse:
    return _error(
        c,
        403,
        "This form expired",
        "This form expired or came from another site. Open the "
        "dashboard again and repeat the step.",
    )
