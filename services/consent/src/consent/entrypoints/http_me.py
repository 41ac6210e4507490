"""The user's view: their consents with full history; revoke one or all (a session token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response, status

from consent.bootstrap import Container
from consent.domain.model import Consent
from consent.entrypoints.deps import Deps, UserKey, auth_errors
from consent.entrypoints.schemas import ConsentList, ConsentPublic, RevokedPublic
from consent.service.consents import Contended, NotFound
from shared.http import Problem
from shared.kafka.publisher import PublishFailed

router = APIRouter(tags=["me"])
ConsentId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "no such consent of this user (unknown or not yours)"}
}


async def _public(c: Container, consent: Consent) -> ConsentPublic:
    app = await c.apps.get(consent.app_id)
    history = await c.consents.history(user_key=consent.user_key, consent_id=consent.consent_id)
    return ConsentPublic.of(history[-1], app_name=app.name if app else None, history=history)


def _not_durable(exc: Exception) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"the revocation is not durable yet ({exc}); try again",
        headers={"Retry-After": "1"},
    )


@router.get("/v1/me/consents", responses=auth_errors("user"))
async def my_consents(c: Deps, user_key: UserKey) -> ConsentList:
    """Every consent of the logged-in user (revoked ones too), each with its history."""
    return ConsentList(consents=[await _public(c, x) for x in await c.consents.of_user(user_key)])


@router.get("/v1/me/consents/{consent_id}", responses={**auth_errors("user"), **_NOT_FOUND})
async def my_consent(c: Deps, user_key: UserKey, consent_id: ConsentId) -> ConsentPublic:
    """One of the user's consents with its full history."""
    try:
        history = await c.consents.history(user_key=user_key, consent_id=consent_id)
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return await _public(c, history[-1])


@router.get(
    "/v1/me/consents/{consent_id}/receipt",
    responses={
        200: {
            "content": {"application/jose": {}},
            "description": "the signed receipt (compact JWS) of the consent's latest grant "
            "or renewal; verify it with `/.well-known/jwks.json`",
        },
        **auth_errors("user"),
        **_NOT_FOUND,
    },
    response_class=Response,
)
async def my_receipt(c: Deps, user_key: UserKey, consent_id: ConsentId) -> Response:
    """Download the consent receipt again (the same document the grant returned)."""
    try:
        history = await c.consents.history(user_key=user_key, consent_id=consent_id)
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    granted = [v for v in history if v.change in ("granted", "renewed")]
    if not granted:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this consent was never granted")
    return Response(await c.receipts.of(granted[-1]), media_type="application/jose")


@router.post("/v1/me/consents/{consent_id}/revoke", responses={**auth_errors("user"), **_NOT_FOUND})
async def revoke(c: Deps, user_key: UserKey, consent_id: ConsentId) -> ConsentPublic:
    """Revoke one consent; returns once `consent.revoked.v1` is durable (again: no new effect)."""
    try:
        revoked = await c.consents.revoke(user_key=user_key, consent_id=consent_id)
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except (PublishFailed, Contended) as exc:
        raise _not_durable(exc) from exc
    return await _public(c, revoked)


@router.post("/v1/me/consents/revoke-all", responses=auth_errors("user"))
async def revoke_all(c: Deps, user_key: UserKey) -> RevokedPublic:
    """Revoke every consent of the user; returns once every revocation is durable."""
    try:
        revoked = await c.consents.revoke_all(user_key=user_key)
    except (PublishFailed, Contended) as exc:
        raise _not_durable(exc) from exc
    return RevokedPublic(revoked=[await _public(c, x) for x in revoked])
