"""HTTP routes of the auth service, one router per area (each translates and calls a handler)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
