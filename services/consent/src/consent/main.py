"""The consent service's app factory and process entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

import uvicorn
from fastapi import FastAPI

from consent.bootstrap import Container, bootstrap
from consent.config import ConsentSettings
from consent.entrypoints import consumers, http
from shared.http import asyncapi_router, health_router
from shared.logging import configure_logging
from shared.runtime import asyncapi_document

TITLE = "Consent: grants, revocation, re-consent on terms change, deletion requests"


def create_app(settings: ConsentSettings | None = None) -> FastAPI:
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

    app = FastAPI(
        title="consent", summary=TITLE, version=version("kits-consent"), lifespan=lifespan
    )
    app.state.container = container
    app.include_router(health_router(readiness=container.runtime.readiness))
    app.include_router(asyncapi_router(document=lambda: asyncapi(container)))
    app.include_router(http.router)
    return app


def asyncapi(container: Container) -> dict[str, object]:
    """This service's AsyncAPI document."""
    return asyncapi_document(
        container.runtime.broker, title="consent", version=version("kits-consent")
    )


def run() -> None:
    """Console entry point: `consent` serves the app with uvicorn."""
    settings = ConsentSettings()
    configure_logging(service="consent", level=settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
    )
