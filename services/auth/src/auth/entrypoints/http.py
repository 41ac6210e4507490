"""HTTP routes of the auth service, one router per area (each translates and calls a handler)."""

from __future__ import annotations

from fastapi import APIRouter

from auth.entrypoints import http_apps, http_data, http_login, http_pages, http_profiles

router = APIRouter()
router.include_router(http_data.router)  # first: the Login Kit's hot path, matched soonest
router.include_router(http_login.router)
router.include_router(http_pages.router)
router.include_router(http_profiles.router)
router.include_router(http_apps.router)


def routers(*, development: bool) -> APIRouter:
    """Every route of this deployment: the development ones only in development."""
    top = APIRouter()
    top.include_router(router)
    if development:
        top.include_router(http_login.dev_router)
    return top
