"""The OAuth server's token side over HTTP: token (RFC 6749), revocation (RFC 7009),
introspection (RFC 7662) and the JWKS of its access-token and ID-token keys."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pymongo.errors import PyMongoError

from auth.bootstrap import Container
from auth.domain import oauth_errors as oe
from auth.domain.apps import App
from auth.domain.grants import ConsentUnavailable
from auth.domain.token_rules import parse_scope
from auth.entrypoints.deps import Deps
from auth.entrypoints.oauth_forms import (
    credentials,
    error_response,
    json_no_store,
    raw_json,
    read_form,
)
from auth.service.oauth_clients import authenticate_client
from shared.kafka.publisher import PublishFailed

log = logging.getLogger(__name__)
router = APIRouter(tags=["oauth"])
FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "RFC 6749 5.2 error (`error`, `error_description`)"},
    401: {"description": "invalid_client (with WWW-Authenticate)"},
    503: {"description": "temporarily_unavailable: consent or the event log did not answer"},
}
UNAVAILABLE = (PyMongoError, PublishFailed, ConsentUnavailable, TimeoutError)


async def _client(request: Request, c: Container, form: dict[str, str], *, public: bool) -> App:
    return await authenticate_client(c.apps, credentials(request, form), allow_public=public)


@router.post("/oauth/token", openapi_extra=FORM_BODY, responses=_ERRORS)
async def token(request: Request, c: Deps) -> Response:
    """RFC 6749 token endpoint: authorization_code (PKCE S256) and refresh_token only."""
    try:
        form = await read_form(request)
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise oe.invalid_request("grant_type is required")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise oe.unsupported_grant_type(grant_type)
        client = await _client(request, c, form, public=True)
        request_id = request.headers.get("x-request-id", "")[:100] or uuid.uuid4().hex
        if grant_type == "authorization_code":
            body = await c.oauth.tokens.redeem_code(
                client=client,
                code=_required(form, "code"),
                redirect_uri=_required(form, "redirect_uri"),
                verifier=form.get("code_verifier"),
                request_id=request_id,
            )
        else:
            body = await c.oauth.tokens.refresh(
                client=client,
                token=_required(form, "refresh_token"),
                scope=_scope(form.get("scope")),
                request_id=request_id,
            )
    except oe.OAuthError as exc:
        return error_response(exc)
    except UNAVAILABLE:
        log.warning("token request failed on a dependency", exc_info=True)
        return error_response(oe.temporarily_unavailable("try again shortly"))
    return raw_json(body)


@router.post("/oauth/revoke", openapi_extra=FORM_BODY, responses=_ERRORS)
async def revoke(request: Request, c: Deps) -> Response:
    """RFC 7009: the caller's own token's family ends; any other token: 200, nothing changes."""
    try:
        form = await read_form(request)
        client = await _client(request, c, form, public=True)
        await c.oauth.revocations.revoke_token(
            client_id=client.client_id,
            token=_required(form, "token"),
            hint=form.get("token_type_hint"),
        )
    except oe.OAuthError as exc:
        return error_response(exc)
    except UNAVAILABLE:
        log.warning("revocation failed on a dependency", exc_info=True)
        return error_response(oe.temporarily_unavailable("try again shortly"))
    return Response(status_code=200, headers={"Cache-Control": "no-store"})


@router.post("/oauth/introspect", openapi_extra=FORM_BODY, responses=_ERRORS)
async def introspect(request: Request, c: Deps) -> JSONResponse:
    """RFC 7662 for confidential clients, about their own tokens (others: `active: false`)."""
    try:
        form = await read_form(request)
        client = await _client(request, c, form, public=False)
        answer = await c.oauth.live.introspect(
            client_id=client.client_id,
            token=_required(form, "token"),
            hint=form.get("token_type_hint"),
        )
    except oe.OAuthError as exc:
        return error_response(exc)
    except UNAVAILABLE:
        log.warning("introspection failed on a dependency", exc_info=True)
        return error_response(oe.temporarily_unavailable("cannot tell now; try again"))
    return json_no_store(answer)


@router.get("/oauth/jwks.json", tags=["keys"])
async def oauth_jwks(c: Deps) -> JSONResponse:
    """The access-token (Ed25519) and ID-token (RS256) keys, each with its kid."""
    headers = {"Cache-Control": "public, max-age=300"}
    return JSONResponse(c.oauth.kit.jwks(), headers=headers)


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if value is None:
        raise oe.invalid_request(f"{name} is required")
    return value


def _scope(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    try:
        return parse_scope(value)
    except ValueError as exc:
        raise oe.invalid_scope(str(exc)) from exc
