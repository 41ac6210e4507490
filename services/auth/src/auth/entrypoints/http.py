"""HTTP routes of the auth service, one router per area (each translates and calls a handler)."""

from __future__ import annotations

from fastapi import APIRouter

from auth.entrypoints import (
    http_apps,
    http_authorize,
    http_dashboard,
    http_data,
    http_discovery,
    http_login,
    http_oauth,
    http_pages,
    http_profiles,
    http_resolve,
)

router = APIRouter()
router.include_router(http_data.router)  # first: the Login Kit's hot path, matched soonest
router.include_router(http_login.router)
router.include_router(http_pages.router)
router.include_router(http_profiles.router)
router.include_router(http_apps.router)
router.include_router(http_oauth.router)  # OAuth token side (issue 17, H1)
router.include_router(http_discovery.router)
router.include_router(http_resolve.router)
router.include_router(http_authorize.router)  # OAuth authorize (H2)
router.include_router(http_dashboard.router)  # the privacy dashboard (issue 19)


def routers(*, development: bool) -> APIRouter:
    """Every route of this deployment: the development ones only in development."""
    top = APIRouter()
    top.include_router(router)
    if development:
        top.include_router(http_login.dev_router)
    return top
