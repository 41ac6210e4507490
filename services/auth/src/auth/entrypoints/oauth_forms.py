"""Reading OAuth endpoint requests: the form body and the client's credentials, with the
refusals RFC 6749 asks for (repeated parameters, wrong content type, oversize), and writing
RFC 6749 5.2 error answers (`Cache-Control: no-store`, 401 + WWW-Authenticate)."""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from auth.domain import oauth_errors as oe
from auth.service.oauth_clients import Credentials

log = logging.getLogger(__name__)
MAX_FORM_BYTES = 16 * 1024
MAX_VALUE_CHARS = 4096
FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CHALLENGE = 'Basic realm="kits-oauth", error="invalid_client"'


async def read_form(request: Request) -> dict[str, str]:
    """The form's parameters (each at most once, RFC 6749 3.2); invalid_request otherwise."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM:
        raise oe.invalid_request(f"the body must be {FORM}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise oe.invalid_request(f"the body is larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise oe.invalid_request("the body is not a readable form") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise oe.invalid_request(f"parameter {name[:40]!r} is repeated")
        if len(value) > MAX_VALUE_CHARS or "\x00" in value:
            raise oe.invalid_request(f"parameter {name[:40]!r} is too long or unreadable")
        form[name] = value
    return {k: v for k, v in form.items() if v != ""}  # empty = omitted (RFC 6749 3.1)


def credentials(request: Request, form: dict[str, str]) -> Credentials:
    """The client credentials presented, by `client_secret_basic` and/or the form."""
    header = request.headers.get("authorization")
    basic = None
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            raise oe.invalid_client("use HTTP Basic (client_secret_basic) or the form")
        basic = _basic(value.strip())
    return Credentials(basic, form.get("client_id"), form.get("client_secret"))


def _basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise oe.invalid_client("unreadable Basic credentials") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise oe.invalid_client("unreadable Basic credentials")
    # RFC 6749 2.3.1: both halves are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def error_response(exc: oe.OAuthError) -> JSONResponse:
    """The RFC 6749 5.2 JSON answer to a refusal."""
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = CHALLENGE
    if exc.status == 503:
        headers["Retry-After"] = "1"
    content = {"error": exc.error, "error_description": exc.description}
    return JSONResponse(content, status_code=exc.status, headers=headers)


def json_no_store(content: Any) -> JSONResponse:
    """A 200 JSON answer that no cache keeps."""
    return JSONResponse(content, headers=NO_STORE)


def raw_json(body: bytes) -> Response:
    """These exact bytes as the 200 JSON answer (their digest is what was recorded)."""
    return Response(content=body, media_type="application/json", headers=NO_STORE)
