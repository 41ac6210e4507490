"""The auth service's app factory and process entry point."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from auth.bootstrap import Container, bootstrap
from auth.config import AuthSettings
from auth.entrypoints import consumers, http
from auth.service.oauth_ports import AuthorizationCodes
from shared import app as service

TITLE = "Login Kit: phone OTP login, pairwise ids, OAuth 2.0 server and data API"


def create_app(
    settings: AuthSettings | None = None,
    *,
    container: Container | None = None,
    oauth_codes: AuthorizationCodes | None = None,
) -> FastAPI:
    """FastAPI app whose lifespan starts and stops the broker, database client and loops
    (`container`: one built by `bootstrap` with a test's fakes of the OAuth ports;
    `oauth_codes`: a test's codes store for the authorize flow)."""
    container = container or bootstrap(settings, oauth_codes=oauth_codes)
    consumers.register(container)
    router = http.routers(development=container.settings.development)
    return service.service_app(name="auth", summary=TITLE, container=container, router=router)


def asyncapi(container: Container) -> dict[str, Any]:
    """This service's AsyncAPI document."""
    return service.asyncapi(container, name="auth")


def run() -> None:
    """Console entry point: `auth` serves the app with uvicorn."""
    settings = AuthSettings()
    service.serve(create_app(settings), settings=settings)
