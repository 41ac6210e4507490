"""Who is calling: the container, a user (session token) or a service (service token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status

from consent.bootstrap import Container
from shared.http import Problem
from shared.service_tokens import InvalidServiceToken
from shared.user_tokens import InvalidUserToken, KeysUnavailable


async def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


Deps = Annotated[Container, Depends(_container)]

_CHALLENGE = {"WWW-Authenticate": {"schema": {"type": "string"}}}
_RETRY = {"Retry-After": {"schema": {"type": "integer"}}}


def auth_errors(who: str) -> dict[int | str, dict[str, Any]]:
    """The 401 and 503 every authenticated route declares."""
    return {
        401: {
            "model": Problem,
            "description": f"no Bearer token, or one that is not a valid {who} token for consent",
            "headers": _CHALLENGE,
        },
        503: {
            "model": Problem,
            "description": "the caller's keys could not be fetched yet, or the record is "
            "not durable (nothing changed: try again)",
            "headers": _RETRY,
        },
    }


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("a Bearer token is required")
    return token.strip()


def unavailable(exc: KeysUnavailable) -> HTTPException:
    """A 503 saying when to try again."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        str(exc),
        headers={"Retry-After": str(exc.retry_after_s)},
    )


async def _user(c: Deps, authorization: Annotated[str | None, Header()] = None) -> str:
    """The user key a platform session token names (signed by auth, verified with its JWKS)."""
    token = _bearer(authorization)
    if c.user_tokens is None:
        raise _unauthorized("user tokens are not accepted here")
    try:
        return await c.user_tokens.user_key(token)
    except InvalidUserToken as exc:
        raise _unauthorized(str(exc)) from exc
    except KeysUnavailable as exc:
        raise unavailable(exc) from exc


async def _service(c: Deps, authorization: Annotated[str | None, Header()] = None) -> str:
    """The calling service a service token names (signed with that caller's published keys)."""
    token = _bearer(authorization)
    try:
        return await c.service_tokens.caller(token)
    except InvalidServiceToken as exc:
        raise _unauthorized(str(exc)) from exc
    except KeysUnavailable as exc:
        raise unavailable(exc) from exc


UserKey = Annotated[str, Depends(_user)]
Caller = Annotated[str, Depends(_service)]
