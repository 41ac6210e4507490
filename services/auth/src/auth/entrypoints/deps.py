"""FastAPI dependencies every auth router shares: the container and the logged-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from auth.bootstrap import Container
from auth.service.ports import Session


async def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


Deps = Annotated[Container, Depends(_container)]


async def _session(request: Request, c: Deps) -> Session:
    token = request.cookies.get(c.settings.session_cookie, "")
    session = await c.sessions.resolve(token)
    if session is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in first: no live session cookie",
            headers={"WWW-Authenticate": 'Cookie realm="kits"'},
        )
    return session


CurrentSession = Annotated[Session, Depends(_session)]
"""The live session of the request's cookie; 401 without one."""
