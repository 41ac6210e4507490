"""HTTP routes of the consent service: one router per area, included here."""

from __future__ import annotations

from fastapi import APIRouter

from consent.entrypoints import http_checks, http_deletions, http_me, http_screen

router = APIRouter()
router.include_router(http_checks.router)
router.include_router(http_me.router)
router.include_router(http_deletions.router)
router.include_router(http_screen.router)
