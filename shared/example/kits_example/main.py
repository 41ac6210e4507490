"""The example's app factory and process entry point."""

from __future__ import annotations

from fastapi import FastAPI

from kits_example.bootstrap import bootstrap
from kits_example.config import ExampleSettings
from kits_example.entrypoints import consumers, http
from shared import app as service

TITLE = "Example: a revoked-consents read model and a profile released only once recorded"
VERSION = "0.1.0"
"""The example is not an installed package, so it names its version itself."""


def create_app(settings: ExampleSettings | None = None) -> FastAPI:
    """FastAPI app whose lifespan starts and stops the broker, consumer and database client."""
    container = bootstrap(settings)
    consumers.register(container)
    return service.service_app(
        name="example",
        summary=TITLE,
        container=container,
        router=http.router,
        app_version=VERSION,
    )


def run() -> None:
    """Serve the app with uvicorn (`python -m kits_example.main`)."""
    settings = ExampleSettings()
    service.serve(create_app(settings), settings=settings)


if __name__ == "__main__":
    run()
