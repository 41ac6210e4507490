"""The app shape every service shares: lifespan, health, AsyncAPI, and the uvicorn entry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any, Protocol

import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError

from shared.http import BodyLimit, asyncapi_router, health_router, validation_problem
from shared.logging import configure_logging
from shared.runtime import Runtime, asyncapi_document
from shared.settings import ServiceSettings


class ServiceContainer(Protocol):
    """What a service's bootstrap builds: its runtime, started and stopped as one."""

    runtime: Runtime

    async def start(self) -> None:
        """Connect, create topics, start consuming and any background loops."""

    async def stop(self) -> None:
        """Stop in reverse order."""


def asyncapi(
    container: ServiceContainer, *, name: str, app_version: str | None = None
) -> dict[str, Any]:
    """The service's AsyncAPI document, from what its broker declares."""
    return asyncapi_document(
        container.runtime.broker, title=name, version=app_version or version(f"kits-{name}")
    )


def service_app(
    *,
    name: str,
    summary: str,
    container: ServiceContainer,
    router: APIRouter,
    app_version: str | None = None,
    body_limit_exempt: Callable[[str, str], bool] | None = None,
) -> FastAPI:
    """FastAPI app whose lifespan starts and stops the container (broker, database, loops);
    the version is the installed `kits-<name>` package's unless given (the worked example)."""
    app_version = app_version or version(f"kits-{name}")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await container.start()
        try:
            yield
        finally:
            await container.stop()

    app = FastAPI(title=name, summary=summary, version=app_version, lifespan=lifespan)
    app.state.container = container
    app.add_middleware(BodyLimit, exempt=body_limit_exempt)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.include_router(health_router(readiness=container.runtime.readiness))
    app.include_router(
        asyncapi_router(document=lambda: asyncapi(container, name=name, app_version=app_version))
    )
    app.include_router(router)
    return app


def serve(app: FastAPI, *, settings: ServiceSettings) -> None:
    """Run the app with uvicorn, logging as JSON lines."""
    configure_logging(service=settings.service_name, level=settings.log_level)
    uvicorn.run(
        app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False
    )
