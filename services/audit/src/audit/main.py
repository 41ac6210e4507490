"""The audit service's app factory and process entry point."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from audit.bootstrap import Container, bootstrap, tune_collector
from audit.config import AuditSettings
from audit.entrypoints import consumers, http
from shared import app as service

TITLE = "Audit: the tamper-evident ledger of every event and transfer"


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    """FastAPI app whose lifespan starts and stops the broker, database client and loops."""
    container = bootstrap(settings)
    consumers.register(container)
    app = service.service_app(name="audit", summary=TITLE, container=container, router=http.router)
    origins = container.settings.cors_origin_list
    if origins:  # the dashboard's page reads entries, checkpoints and keys from the browser
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET"],
            allow_headers=["Authorization"],
            allow_credentials=False,  # a Bearer token in a header, never cookies
            max_age=600,
        )
    return app


def asyncapi(container: Container) -> dict[str, Any]:
    """This service's AsyncAPI document."""
    return service.asyncapi(container, name="audit")


def run() -> None:
    """Console entry point: `audit` serves the app with uvicorn."""
    tune_collector()
    settings = AuditSettings()
    service.serve(create_app(settings), settings=settings)
