"""HTTP routes of the consent service: translate a request, call one handler, map the result."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
