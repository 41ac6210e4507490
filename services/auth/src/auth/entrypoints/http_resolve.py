"""`POST /internal/v1/access-tokens/resolve`: sound hands auth an access token it was given and
learns whose it is (README "Resolve hand-over for sound"). Callers authenticate with a service
token (`shared/service_tokens.py`) verified against `AUTH_SERVICE_CALLERS`."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import PyMongoError

from auth.domain.grants import InvalidAccessToken
from auth.entrypoints.deps import Deps
from shared.http import Problem
from shared.jwks import KeysUnavailable
from shared.service_tokens import InvalidServiceToken

log = logging.getLogger(__name__)
router = APIRouter(tags=["internal"])


class ResolveRequest(BaseModel):
    """The access token to resolve and the resource server (audience) asking."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=8192)
    audience: str = Field(min_length=1, max_length=200)


class ResolvedPublic(BaseModel):
    """A live token's grant, or `active: false` with the reason."""

    active: bool
    reason: str | None = None
    token_id: str | None = None
    family_id: str | None = None
    client_id: str | None = None
    sub: str | None = None
    user_key: str | None = None
    scopes: list[str] | None = None
    consent_id: str | None = None
    consent_version: int | None = None
    terms_version: str | None = None
    purpose: str | None = None
    exp: int | None = None


_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no, a bad, or an unknown caller's service token"},
    503: {"model": Problem, "description": "auth cannot tell now (database or caller keys)"},
}


async def _caller(c: Deps, authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a service token is required (Authorization: Bearer)",
            headers={"WWW-Authenticate": 'Bearer realm="kits-internal"'},
        )
    try:
        return await c.oauth.service_callers.caller(token.strip())
    except InvalidServiceToken as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            str(exc),
            headers={"WWW-Authenticate": 'Bearer realm="kits-internal", error="invalid_token"'},
        ) from exc
    except KeysUnavailable as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            str(exc),
            headers={"Retry-After": str(exc.retry_after_s)},
        ) from exc


@router.post(
    "/internal/v1/access-tokens/resolve",
    response_model=ResolvedPublic,
    response_model_exclude_none=True,
    responses=_RESPONSES,
)
async def resolve(
    body: ResolveRequest, c: Deps, authorization: Annotated[str | None, Header()] = None
) -> ResolvedPublic:
    """Whose live access token this is, for the calling resource server's audience."""
    await _caller(c, authorization)
    try:
        live = await c.oauth.live.verify(body.token, audience=body.audience)
    except InvalidAccessToken as exc:
        return ResolvedPublic(active=False, reason=exc.reason)
    except PyMongoError as exc:
        log.warning("resolve could not read the token family", exc_info=True)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "cannot tell now") from exc
    grant = live.grant
    return ResolvedPublic(
        active=True,
        token_id=live.token_id,
        family_id=live.family_id,
        client_id=grant.client_id,
        sub=grant.pairwise_subject,
        user_key=grant.user_key,
        scopes=list(grant.scopes),
        consent_id=grant.consent_id,
        consent_version=grant.consent_version,
        terms_version=grant.terms_version,
        purpose=grant.purpose,
        exp=live.expires_at,
    )
