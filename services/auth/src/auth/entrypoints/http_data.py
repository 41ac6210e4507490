"""The Login Kit data API (`/v2/user/info/`, `/v2/video/list/`) and OIDC UserInfo.

The handlers return the exact bytes whose transfer record the broker acknowledged; these routes
send those bytes as they are (a `Response` of the prepared body, never a re-serialised dict).
Parameters are read by hand, not by FastAPI's validation, so every refusal is in the API's own
shape (the Login Kit envelope, or RFC 6750 for UserInfo) instead of a 422 in another one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response

from auth.bootstrap import Container
from auth.domain.fields import compact_json, envelope
from auth.service.data_api import DataRefused
from shared.events.envelope import new_event_id

log = logging.getLogger("auth.data")
router = APIRouter(tags=["login kit data"])

STATUS = {
    "access_token_invalid": 401,
    "scope_not_authorized": 403,
    "invalid_params": 400,
    "consent_revoked": 403,
    "service_unavailable": 503,
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REALM = 'Bearer realm="kits-login-kit"'
FORM = "application/x-www-form-urlencoded"
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")  # RFC 6750's error_description chars
Produce = Callable[[], Awaitable[bytes]]


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header; None without one ("" when malformed)."""
    headers = request.headers.getlist("authorization")
    if not headers:
        return None
    if len(headers) > 1:
        return ""  # two credentials: which one would be meant is not ours to guess
    header = headers[0]
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return ""
    return token


def _container(request: Request) -> Container:
    # Read directly, not through `Depends`: FastAPI's dependency solving was a third of this
    # route's own CPU per request (bench E1), and these routes take nothing else from it.
    container: Container = request.app.state.container
    return container


def fields_param(request: Request) -> str | None:
    """The one `fields` query parameter; a second one is refused, not silently preferred."""
    given = request.query_params.getlist("fields")
    if len(given) > 1:
        raise DataRefused("invalid_params", "fields is given more than once; send one list")
    return given[0] if given else None


@router.get("/v2/user/info/", summary="User info (Login Kit v2)")
@router.get("/v2/user/info", include_in_schema=False)
async def user_info(request: Request) -> Response:
    """The requested `fields` of the token's user, each covered by a granted scope."""
    log_id, c = new_event_id(), _container(request)

    async def produce() -> bytes:
        return await c.data_api.user_info(
            token=bearer(request) or "", fields=fields_param(request), log_id=log_id
        )

    return await _login_kit(produce, log_id=log_id, route="user.info")


@router.post("/v2/video/list/", summary="Video list (Login Kit v2)")
@router.post("/v2/video/list", include_in_schema=False)
async def video_list(request: Request) -> Response:
    """One page of the user's public videos, newest first (`{"cursor", "max_count"}` body)."""
    log_id, c = new_event_id(), _container(request)
    body = await request.body()

    async def produce() -> bytes:
        return await c.data_api.video_list(
            token=bearer(request) or "",
            fields=fields_param(request),
            body=body,
            log_id=log_id,
        )

    return await _login_kit(produce, log_id=log_id, route="video.list")


async def _login_kit(produce: Produce, *, log_id: str, route: str) -> Response:
    """The envelope: the recorded bytes with 200, or the refusal with its status and code."""
    try:
        body = await produce()
    except DataRefused as refused:
        status = STATUS[refused.kind]
        _log(route, log_id=log_id, code=refused.kind, status=status)
        headers = {**NO_STORE, "X-Log-Id": log_id, **_extra_headers(refused)}
        data = envelope({}, log_id=log_id, code=refused.kind, message=refused.message)
        return Response(data, status_code=status, media_type="application/json", headers=headers)
    except Exception:
        log.exception(
            "login kit data request failed",
            extra={"log_id": log_id, "route": route, "code": "internal_error", "status": 500},
        )
        data = envelope({}, log_id=log_id, code="internal_error", message="internal error")
        headers = {**NO_STORE, "X-Log-Id": log_id}
        return Response(data, status_code=500, media_type="application/json", headers=headers)
    _log(route, log_id=log_id, code="ok", status=200)
    return Response(body, media_type="application/json", headers={**NO_STORE, "X-Log-Id": log_id})


def _extra_headers(refused: DataRefused) -> dict[str, str]:
    if refused.kind == "access_token_invalid":
        return {"WWW-Authenticate": f'{REALM}, error="invalid_token"'}
    if refused.kind == "service_unavailable":
        return {"Retry-After": "1"}
    return {}


@router.get("/oauth/userinfo", summary="OpenID Connect UserInfo")
@router.post("/oauth/userinfo", summary="OpenID Connect UserInfo")
async def userinfo(request: Request) -> Response:
    """`sub` (pairwise) and `name`, `picture`, `profile` as the scopes allow (RFC 6750 errors)."""
    log_id, c = new_event_id(), _container(request)
    token = await _userinfo_token(request)
    if isinstance(token, Response):
        _log("userinfo", log_id=log_id, code="invalid_request", status=token.status_code)
        return token
    try:
        body = await c.data_api.userinfo(token=token, log_id=log_id)
    except DataRefused as refused:
        answer = _bearer_refusal(refused)
        _log("userinfo", log_id=log_id, code=refused.kind, status=answer.status_code)
        return answer
    _log("userinfo", log_id=log_id, code="ok", status=200)
    return Response(body, media_type="application/json", headers=NO_STORE)


async def _userinfo_token(request: Request) -> str | Response:
    """The access token from the header, or from a POST form (RFC 6750 2.2): never from the
    query (RFC 9700 2.4), never two of them."""
    if "access_token" in request.query_params:
        return _bearer_error(400, "invalid_request", "send the token in the Authorization header")
    header = bearer(request)
    form_token = None
    if request.method == "POST" and request.headers.get("content-type", "").startswith(FORM):
        values = parse_qs((await request.body()).decode("latin-1"), keep_blank_values=True)
        form_token = values.get("access_token", [None])[0]
        if len(values.get("access_token", [])) > 1:
            return _bearer_error(400, "invalid_request", "access_token is given twice")
    if header is not None and form_token is not None:
        return _bearer_error(400, "invalid_request", "the token is sent in two ways")
    token = header if header is not None else form_token
    if not token:
        # No credentials at all: a challenge without an error code (RFC 6750 3.1).
        return Response(b"", status_code=401, headers={**NO_STORE, "WWW-Authenticate": REALM})
    return token


def _bearer_refusal(refused: DataRefused) -> Response:
    if refused.kind == "service_unavailable":
        answer = _bearer_error(503, "temporarily_unavailable", refused.message)
        answer.headers["Retry-After"] = "1"
        return answer
    if refused.kind == "scope_not_authorized":
        return _bearer_error(403, "insufficient_scope", refused.message, scope=refused.needs)
    if refused.kind == "invalid_params":
        return _bearer_error(400, "invalid_request", refused.message)
    # A token that is not valid, or whose consent has ended, is an invalid token to the client.
    return _bearer_error(401, "invalid_token", refused.message)


def _bearer_error(
    status: int, error: str, description: str, *, scope: tuple[str, ...] = ()
) -> Response:
    safe = _UNSAFE.sub("'", description)[:300]
    challenge = f'{REALM}, error="{error}", error_description="{safe}"'
    if scope:
        challenge += f', scope="{" ".join(scope)}"'
    body = compact_json({"error": error, "error_description": safe})  # RFC 6749's shape
    headers = {**NO_STORE}
    if status in (401, 403):
        headers["WWW-Authenticate"] = challenge
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _log(route: str, *, log_id: str, code: str, status: int) -> None:
    log.info(
        "login kit data request",
        extra={"log_id": log_id, "route": route, "code": code, "status": status},
    )
