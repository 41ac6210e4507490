"""The consent service's app factory and process entry point."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from consent.bootstrap import Container, bootstrap
from consent.config import ConsentSettings
from consent.entrypoints import consumers, http
from consent.service.ports import DeletionRequester
from shared import app as service

TITLE = "Consent: grants, revocation, re-consent on terms change, deletion requests"


def create_app(
    settings: ConsentSettings | None = None, *, deletions: DeletionRequester | None = None
) -> FastAPI:
    """FastAPI app whose lifespan starts and stops the broker, database client and loops."""
    container = bootstrap(settings, deletions=deletions)
    consumers.register(container)
    return service.service_app(
        name="consent", summary=TITLE, container=container, router=http.router
    )


def asyncapi(container: Container) -> dict[str, Any]:
    """This service's AsyncAPI document."""
    return service.asyncapi(container, name="consent")


def run() -> None:
    """Console entry point: `consent` serves the app with uvicorn."""
    settings = ConsentSettings()
    service.serve(create_app(settings), settings=settings)
