"""The check: service-to-service, one call, authoritative."""

from __future__ import annotations

from fastapi import APIRouter

from consent.entrypoints.deps import Caller, Deps, auth_errors
from consent.entrypoints.schemas import CheckPublic, CheckRequest

router = APIRouter(tags=["check"])


@router.post("/v1/checks", responses=auth_errors("service"))
async def check(c: Deps, caller: Caller, body: CheckRequest) -> CheckPublic:
    """Whether an active consent covers these scopes for this user and app at the app's current
    terms, and which consent id and version it is (a service token is required)."""
    del caller  # every configured caller may ask
    verdict = await c.checks.check(
        user_key=body.user_key, app_id=body.app_id, scopes=tuple(body.scopes)
    )
    return CheckPublic.of(verdict)
