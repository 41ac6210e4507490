"""The sound service's app factory and process entry point."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared import app as service
from sound.bootstrap import Container, bootstrap
from sound.config import SoundSettings
from sound.entrypoints import consumers, http
from sound.service.ports import ConsentCheck, TokenResolver

TITLE = "Sound Kit: upload sessions, audio validation, sound storage"


def create_app(
    settings: SoundSettings | None = None,
    *,
    tokens: TokenResolver | None = None,
    consent: ConsentCheck | None = None,
) -> FastAPI:
    """FastAPI app whose lifespan starts and stops the broker, database client and loops
    (`tokens` and `consent` replace the HTTP ports to auth and consent: tests)."""
    container = bootstrap(settings, tokens=tokens, consent=consent)
    consumers.register(container)
    return service.service_app(
        name="sound",
        summary=TITLE,
        container=container,
        router=http.router,
        body_limit_exempt=http.is_chunk_put,
    )


def asyncapi(container: Container) -> dict[str, Any]:
    """This service's AsyncAPI document."""
    return service.asyncapi(container, name="sound")


def run() -> None:
    """Console entry point: `sound` serves the app with uvicorn."""
    settings = SoundSettings()
    service.serve(create_app(settings), settings=settings)
