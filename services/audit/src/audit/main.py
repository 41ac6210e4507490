"""The audit service's app factory and process entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

import uvicorn
from fastapi import FastAPI

from audit.bootstrap import Container, bootstrap
from audit.config import AuditSettings
from audit.entrypoints import consumers, http
from shared.http import asyncapi_router, health_router
from shared.logging import configure_logging
from shared.runtime import asyncapi_document

TITLE = "Audit: the tamper-evident ledger of every event and transfer"


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    """FastAPI app whose lifespan starts and stops the broker and the database client."""
    container = bootstrap(settings)
    consumers.register(container)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await container.start()
        try:
            yield
        finally:
            await container.stop()

    app = FastAPI(title="audit", summary=TITLE, version=version("kits-audit"), lifespan=lifespan)
    app.state.container = container
    app.include_router(health_router(readiness=container.runtime.readiness))
    app.include_router(asyncapi_router(document=lambda: asyncapi(container)))
    app.include_router(http.router)
    return app


def asyncapi(container: Container) -> dict[str, object]:
    """This service's AsyncAPI document."""
    return asyncapi_document(container.runtime.broker, title="audit", version=version("kits-audit"))


def run() -> None:
    """Console entry point: `audit` serves the app with uvicorn."""
    settings = AuditSettings()
    configure_logging(service="audit", level=settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )
