"""`GET /oauth/authorize` and `GET /oauth/consent/callback` (README "OAuth 2.0: authorize and
the consent hand-over"): they translate the request, call the use case, and map its outcome to
a 303 or an HTML error page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from auth.entrypoints import pages
from auth.entrypoints.deps import Deps
from auth.service.authorize import ErrorPage, Outcome

router = APIRouter(tags=["oauth"])


def _query(name: str, description: str, *, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


_AUTHORIZE_PARAMS = [
    _query("response_type", "`code` (the only one)", required=True),
    _query("client_id", "the app's client id (`client_key` is accepted as an alias)"),
    _query("redirect_uri", "one of the app's registered redirect URIs, exactly", required=True),
    _query("scope", "scopes, space (or comma) separated; `openid` for OpenID Connect"),
    _query("state", "opaque, returned as given (at most 1024 characters)"),
    _query("code_challenge", "PKCE: BASE64URL(SHA-256(code_verifier))", required=True),
    _query("code_challenge_method", "`S256` (the only one)", required=True),
    _query("nonce", "OpenID Connect: echoed in the ID token"),
    _query("prompt", "`none`, or `login` and/or `consent`"),
]
_PAGE = {"description": "an HTML error page: the client or redirect URI cannot be trusted"}
_SEE_OTHER = {"description": "to the login page, the consent screen or the app's redirect URI"}


def _page(outcome: ErrorPage) -> HTMLResponse:
    response = HTMLResponse(pages.oauth_error_page(message=outcome.message), outcome.status)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    return response


def _respond(c: Deps, outcome: Outcome) -> Response:
    response: Response
    if isinstance(outcome, ErrorPage):
        response = _page(outcome)
    else:
        response = RedirectResponse(outcome.location, status_code=status.HTTP_303_SEE_OTHER)
        if outcome.flow_nonce is not None:
            response.set_cookie(
                c.settings.flow_cookie,
                outcome.flow_nonce,
                max_age=c.settings.consent_challenge_ttl_s,
                secure=c.settings.session_cookie_secure,
                httponly=True,
                samesite="lax",
                path="/",
                domain=c.settings.flow_cookie_domain or None,
            )
    if outcome.end_flow:
        response.delete_cookie(
            c.settings.flow_cookie,
            path="/",
            domain=c.settings.flow_cookie_domain or None,
            secure=c.settings.session_cookie_secure,
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # codes and challenges are in URLs
    return response


@router.get(
    "/oauth/authorize",
    response_class=Response,
    status_code=status.HTTP_303_SEE_OTHER,
    responses={303: _SEE_OTHER, 400: _PAGE},
    openapi_extra={"parameters": _AUTHORIZE_PARAMS},
)
async def authorize(c: Deps, request: Request) -> Response:
    """The OAuth 2.0 authorization endpoint (code flow with PKCE S256 only)."""
    query = request.url.query
    outcome = await c.authorize.authorize(
        params=request.query_params.multi_items(),
        session_token=request.cookies.get(c.settings.session_cookie, ""),
        here=f"{request.url.path}?{query}" if query else request.url.path,
    )
    return _respond(c, outcome)


@router.post(
    "/oauth/authorize",
    response_class=Response,
    status_code=status.HTTP_303_SEE_OTHER,
    responses={303: _SEE_OTHER, 400: _PAGE},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {p["name"]: p["schema"] for p in _AUTHORIZE_PARAMS},
                    }
                }
            }
        }
    },
)
async def authorize_form(c: Deps, request: Request) -> Response:
    """The same request as a form post (OIDC Core 3.1.2.1: GET and POST are supported)."""
    params: list[tuple[str, str]] = []
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form(max_files=0, max_fields=100)
        params = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    outcome = await c.authorize.authorize(
        params=params,
        session_token=request.cookies.get(c.settings.session_cookie, ""),
        # After a login the browser comes back by GET, with the same parameters.
        here=f"{request.url.path}?{urlencode(params)}",
    )
    return _respond(c, outcome)


@router.get(
    "/oauth/consent/callback",
    response_class=Response,
    status_code=status.HTTP_303_SEE_OTHER,
    responses={
        303: {"description": "to the app's redirect URI, with a code or access_denied"},
        400: _PAGE,
        403: {"description": "another browser, or no longer the same user's session"},
        409: {"description": "this answer was already used"},
        410: {"description": "the flow expired or was finished"},
        503: {"description": "consent's keys could not be fetched"},
    },
    openapi_extra={
        "parameters": [
            _query("verdict", "consent's signed answer (JWS)", required=True),
            _query("state", "the flow id auth gave consent", required=True),
        ]
    },
)
async def consent_callback(c: Deps, request: Request) -> Response:
    """Where the consent screen sends the browser back: a code only for the flow it answers."""
    params = request.query_params
    outcome = await c.consent_callback.answer(
        verdict=params.get("verdict", ""),
        state=params.get("state", ""),
        cookie_nonce=request.cookies.get(c.settings.flow_cookie),
        session_token=request.cookies.get(c.settings.session_cookie, ""),
    )
    return _respond(c, outcome)
