"""HTTP routes of the consent service: translate a request, call one handler, map the result."""

from __future__ import annotations

from fastapi import APIRouter

from consent.entrypoints import http_deletions

router = APIRouter()
router.include_router(http_deletions.router)
