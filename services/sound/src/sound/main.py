"""The sound service's app factory and process entry point."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared import app as service
from sound.bootstrap import Container, bootstrap
from sound.config import SoundSettings
from sound.entrypoints import consumers, http

TITLE = "Sound Kit: upload sessions, audio validation, sound storage"


def create_app(settings: SoundSettings | None = None) -> FastAPI:
    """FastAPI app whose lifespan starts and stops the broker, database client and loops."""
    container = bootstrap(settings)
    consumers.register(container)
    return service.service_app(name="sound", summary=TITLE, container=container, router=http.router)


def asyncapi(container: Container) -> dict[str, Any]:
    """This service's AsyncAPI document."""
    return service.asyncapi(container, name="sound")


def run() -> None:
    """Console entry point: `sound` serves the app with uvicorn."""
    settings = SoundSettings()
    service.serve(create_app(settings), settings=settings)
