"""HTTP routes of the auth service, one router per area (each translates and calls a handler)."""

from __future__ import annotations

from fastapi import APIRouter

from auth.entrypoints import http_profiles

router = APIRouter()
router.include_router(http_profiles.router)
