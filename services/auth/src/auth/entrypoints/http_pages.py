"""The HTML login flow (phone, then code) that the OAuth flow and the dashboard send people to.

Forms carry a CSRF token that must equal a `SameSite=Strict` cookie (double submit), so another
site cannot log a browser in to an account of its choosing. `next` is a local path only.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from auth.domain.limits import RateLimited
from auth.domain.otp import LoginFailed
from auth.entrypoints import pages
from auth.entrypoints.deps import Deps
from auth.entrypoints.http_login import client_address, refused, set_session_cookie
from auth.service.phones import InvalidPhone
from auth.service.ports import SmsFailed
from shared.kafka.publisher import PublishFailed

router = APIRouter(tags=["pages"], include_in_schema=True)
CSRF_COOKIE = "kits_csrf"
Text = Annotated[str, Form(max_length=200)]
Next = Annotated[str, Form(max_length=2000)]


def safe_next(value: str) -> str:
    """A local path to return to (anything else, e.g. `//evil` or `https://…`, becomes `/`)."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/login/done"


# The code step's form posts to this origin, but its answer redirects on to `next`, which in an
# OAuth flow redirects to the consent screen or the app's redirect URI; Chromium applies
# `form-action` to every hop of that chain (measured: `'self'` alone stopped the flow at the
# consent screen's origin), so that one page allows any http(s) target, as consent's screen does.
FORM_ACTION_SELF = "form-action 'self'"
FORM_ACTION_REDIRECTS = "form-action 'self' https: http:"


def _html(
    body: str,
    *,
    status_code: int = 200,
    csrf: str | None = None,
    secure: bool = True,
    form_action: str = FORM_ACTION_SELF,
) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; {form_action}; frame-ancestors 'none'"
    )
    if csrf is not None:
        response.set_cookie(
            CSRF_COOKIE, csrf, secure=secure, httponly=True, samesite="strict", path="/login"
        )
    return response


def _csrf_ok(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie, sent)


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    c: Deps, next: Annotated[str, Query(max_length=2000)] = "/login/done"
) -> Response:
    """Step 1 of the login page: the phone number."""
    csrf = secrets.token_urlsafe(24)
    page = pages.phone_page(csrf=csrf, next_url=safe_next(next))
    return _html(page, csrf=csrf, secure=c.settings.session_cookie_secure)


@router.post("/login", response_class=HTMLResponse)
async def login_phone(
    c: Deps,
    request: Request,
    phone: Text,
    csrf: Text,
    next: Next = "/login/done",
) -> Response:
    """Send the code, then show step 2."""
    next_url = safe_next(next)
    if not _csrf_ok(request, csrf):
        return _expired_form(c, next_url)
    client = client_address(request, c.settings.client_address_header)
    try:
        sent = await c.login.start(phone=phone, client=client)
    except (InvalidPhone, RateLimited, SmsFailed) as exc:
        page = pages.phone_page(csrf=csrf, next_url=next_url, error=_say(exc))
        return _as_refused(page, exc)
    page = pages.code_page(csrf=csrf, next_url=next_url, challenge=sent.challenge)
    return _html(page, form_action=FORM_ACTION_REDIRECTS)


@router.post("/login/code", response_class=HTMLResponse)
async def login_code(
    c: Deps,
    request: Request,
    challenge: Text,
    code: Text,
    csrf: Text,
    next: Next = "/login/done",
) -> Response:
    """Check the code; on success set the session cookie and go to `next`."""
    next_url = safe_next(next)
    if not _csrf_ok(request, csrf):
        return _expired_form(c, next_url)
    try:
        logged_in = await c.login.verify(challenge=challenge, code=code)
    except (LoginFailed, RateLimited, PublishFailed) as exc:
        page = pages.code_page(csrf=csrf, next_url=next_url, challenge=challenge, error=_say(exc))
        return _as_refused(page, exc, form_action=FORM_ACTION_REDIRECTS)
    response = RedirectResponse(next_url, status_code=status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, c, logged_in)
    return response


@router.get("/login/done", response_class=HTMLResponse)
async def login_done(c: Deps, request: Request) -> Response:
    """Where a login with nowhere else to go ends."""
    session = await c.sessions.resolve(request.cookies.get(c.settings.session_cookie, ""))
    if session is None:
        return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    return _html(pages.done_page(user_hint="You can close this page."))


@router.post("/logout", response_class=HTMLResponse)
async def logout_page(c: Deps, request: Request) -> Response:
    """End the session and go back to the login page."""
    await c.sessions.end(request.cookies.get(c.settings.session_cookie, ""))
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(c.settings.session_cookie, path="/")
    return response


def _expired_form(c: Deps, next_url: str) -> Response:
    # A fresh form with its cookie: without the cookie, sending this form again would fail too.
    csrf = secrets.token_urlsafe(24)
    page = pages.phone_page(
        csrf=csrf, next_url=next_url, notice="This form expired. Please start again."
    )
    return _html(
        page,
        status_code=status.HTTP_403_FORBIDDEN,
        csrf=csrf,
        secure=c.settings.session_cookie_secure,
    )


def _as_refused(page: str, exc: Exception, *, form_action: str = FORM_ACTION_SELF) -> HTMLResponse:
    """The page with the JSON API's status and headers for the same refusal (`refused`)."""
    answer = refused(exc)
    response = _html(page, status_code=answer.status_code, form_action=form_action)
    response.headers.update(answer.headers or {})
    return response


def _say(exc: Exception) -> str:
    if isinstance(exc, SmsFailed | PublishFailed):
        return "We could not do that just now. Please try again in a moment."
    reason = str(exc).rstrip(".")  # the API's wording, made a sentence for the page
    return f"{reason[:1].upper()}{reason[1:]}."
