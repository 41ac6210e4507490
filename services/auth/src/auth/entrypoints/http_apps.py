"""HTTP routes of the app registry: developers (by API key) register and manage their apps.

Another developer's app answers 404 exactly as an unknown one does, never 403: a 403 would tell
anyone with a developer key which client ids exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, status

from auth.domain.app_rules import InvalidApp
from auth.domain.scopes import CATALOGUE
from auth.entrypoints.deps import Deps
from auth.entrypoints.schemas_apps import (
    AppCreate,
    AppCreated,
    AppList,
    AppPublic,
    AppUpdate,
    ScopeList,
    ScopePublic,
    SecretRotated,
    TermsIn,
)
from auth.service.app_ports import Developer
from auth.service.apps import AppBusy, AppNotFound, TooManyApps
from shared.http import Problem
from shared.kafka.publisher import PublishFailed

router = APIRouter(tags=["apps"])
Responses = dict[int | str, dict[str, Any]]
ClientId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^app_[0-9a-f]{32}$")]

_401: Responses = {
    401: {
        "model": Problem,
        "description": "no `Authorization: Bearer <developer API key>`, or an unknown key",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    }
}


def _refusal(code: int, description: str) -> Responses:
    return {code: {"model": Problem, "description": description}}


_400 = _refusal(400, "a value breaks a registry rule (field: reason)")
_404 = _refusal(404, "no such app among the calling developer's")
_409 = _refusal(409, "the app kept changing concurrently, or the developer has too many apps")
_503 = _refusal(503, "the change's event could not be made durable; nothing changed")
_CHANGE: Responses = {**_401, **_400, **_404, **_409, **_503}


async def _developer(
    c: Deps, authorization: Annotated[str | None, Header(max_length=500)] = None
) -> Developer:
    scheme, _, key = (authorization or "").partition(" ")
    developer = None
    if scheme.lower() == "bearer" and key.strip():
        developer = await c.apps.developers.authenticate(key.strip())
    if developer is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a developer API key is required: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": 'Bearer realm="kits-developers"'},
        )
    return developer


CurrentDeveloper = Annotated[Developer, Depends(_developer)]
"""The developer whose API key the request carries; 401 without a valid one."""


def _problem(exc: Exception) -> HTTPException:
    if isinstance(exc, InvalidApp):
        return HTTPException(status.HTTP_400_BAD_REQUEST, str(exc))
    if isinstance(exc, AppNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, "no such app")
    if isinstance(exc, AppBusy | TooManyApps):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "the change could not be recorded durably; nothing was changed, try again",
    )


_REFUSED = (InvalidApp, AppNotFound, AppBusy, TooManyApps, PublishFailed)


@router.get("/v1/scopes")
async def scopes() -> ScopeList:
    """The scope catalogue, with the words the consent screen shows for each scope."""
    return ScopeList(
        scopes=[ScopePublic(name=s.name, description=s.description) for s in CATALOGUE]
    )


@router.post(
    "/v1/apps",
    status_code=status.HTTP_201_CREATED,
    responses={**_401, **_400, **_409, **_503},
)
async def register_app(c: Deps, developer: CurrentDeveloper, body: AppCreate) -> AppCreated:
    """Register an app; a confidential client's secret is in this answer and never again."""
    try:
        found = await c.apps.register(developer, body.fields())
    except _REFUSED as exc:
        raise _problem(exc) from exc
    return AppCreated(app=AppPublic.of(found.app), client_secret=found.client_secret)


@router.get("/v1/apps", responses=_401)
async def list_apps(c: Deps, developer: CurrentDeveloper) -> AppList:
    """The calling developer's apps."""
    return AppList(apps=[AppPublic.of(app) for app in await c.apps.owned(developer)])


@router.get("/v1/apps/{client_id}", responses={**_401, **_404})
async def get_app(c: Deps, developer: CurrentDeveloper, client_id: ClientId) -> AppPublic:
    """One of the calling developer's apps."""
    try:
        return AppPublic.of(await c.apps.owned_app(developer, client_id))
    except AppNotFound as exc:
        raise _problem(exc) from exc


@router.patch("/v1/apps/{client_id}", responses=_CHANGE)
async def update_app(
    c: Deps, developer: CurrentDeveloper, client_id: ClientId, body: AppUpdate
) -> AppPublic:
    """Change name, redirect URIs, scopes or URLs (`auth.app_updated.v1`; none if unchanged)."""
    try:
        return AppPublic.of(await c.apps.update(developer, client_id, body.changes()))
    except _REFUSED as exc:
        raise _problem(exc) from exc


@router.put("/v1/apps/{client_id}/terms", responses=_CHANGE)
async def update_terms(
    c: Deps, developer: CurrentDeveloper, client_id: ClientId, body: TermsIn
) -> AppPublic:
    """Publish new terms, recipients and retention (`auth.app_terms_updated.v1`)."""
    try:
        return AppPublic.of(await c.apps.update_terms(developer, client_id, body.terms()))
    except _REFUSED as exc:
        raise _problem(exc) from exc


@router.post("/v1/apps/{client_id}/secret", responses=_CHANGE)
async def rotate_secret(c: Deps, developer: CurrentDeveloper, client_id: ClientId) -> SecretRotated:
    """A new client secret, shown this once; the old one stops working now (400 for public)."""
    try:
        app, secret = await c.apps.rotate_secret(developer, client_id)
    except _REFUSED as exc:
        raise _problem(exc) from exc
    return SecretRotated(client_id=app.client_id, client_secret=secret)
