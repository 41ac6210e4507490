"""Login, session, user-token, JWKS and account routes (JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from auth.domain.limits import RateLimited
from auth.domain.otp import LoginFailed
from auth.entrypoints.deps import CurrentSession, Deps
from auth.entrypoints.schemas_login import (
    CodeSentPublic,
    DevCodePublic,
    DevCodeQuery,
    JwksPublic,
    LoginStart,
    LoginVerify,
    SessionPublic,
    UserTokenPublic,
)
from auth.service.login import LoggedIn
from auth.service.phones import InvalidPhone, to_e164
from auth.service.ports import SmsFailed
from shared.http import Problem
from shared.kafka.publisher import PublishFailed

router = APIRouter(tags=["login"])
_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": Problem, "description": "too many codes or guesses; see Retry-After"},
    503: {"model": Problem, "description": "the SMS provider or the event log is away"},
}


def client_address(request: Request, header: str) -> str:
    """The client's address: the configured proxy header's first entry, else the TCP peer."""
    if header and (value := request.headers.get(header)):
        return value.split(",")[0].strip()[:100]
    return request.client.host if request.client else "unknown"


def refused(exc: Exception) -> HTTPException:
    """The HTTP answer to a login step's refusal."""
    if isinstance(exc, InvalidPhone):
        return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))
    if isinstance(exc, RateLimited):
        return HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            str(exc),
            headers={"Retry-After": str(exc.retry_after_s)},
        )
    if isinstance(exc, LoginFailed):
        return HTTPException(status.HTTP_400_BAD_REQUEST, str(exc))
    if isinstance(exc, SmsFailed | PublishFailed):
        return HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the login could not be completed now; try again shortly",
            headers={"Retry-After": "5"},
        )
    raise exc


def set_session_cookie(response: Response, c: Deps, logged_in: LoggedIn) -> None:
    """The session cookie: Secure, HttpOnly, SameSite=Lax (the OAuth redirects are top-level)."""
    response.set_cookie(
        c.settings.session_cookie,
        logged_in.session.token,
        max_age=c.settings.session_ttl_s,
        secure=c.settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
        path="/",
    )


@router.post(
    "/v1/login/start",
    status_code=status.HTTP_202_ACCEPTED,
    responses={422: {"model": Problem, "description": "not a usable number"}, **_LIMITED},
)
async def start(c: Deps, request: Request, body: LoginStart) -> CodeSentPublic:
    """Send a one-time code to the number (the same answer whether it has an account)."""
    client = client_address(request, c.settings.client_address_header)
    try:
        sent = await c.login.start(phone=body.phone, client=client)
    except (InvalidPhone, RateLimited, SmsFailed) as exc:
        raise refused(exc) from None
    return CodeSentPublic(challenge=sent.challenge, expires_in=sent.expires_in)


@router.post(
    "/v1/login/verify",
    responses={
        400: {"model": Problem, "description": "the code is wrong, expired or used up"},
        422: {"model": Problem, "description": "neither a challenge nor a usable number"},
        **_LIMITED,
    },
)
async def verify(c: Deps, body: LoginVerify, response: Response) -> SessionPublic:
    """Prove the number with the code: sets the session cookie."""
    try:
        challenge = body.challenge or c.login.challenge_of(body.phone or "")
        logged_in = await c.login.verify(challenge=challenge, code=body.code)
    except (InvalidPhone, RateLimited, LoginFailed, PublishFailed) as exc:
        raise refused(exc) from None
    set_session_cookie(response, c, logged_in)
    return SessionPublic(
        user_key=logged_in.user_key, expires_at=logged_in.session.session.expires_at
    )


@router.get("/v1/session", responses={401: {"model": Problem}})
async def session(session: CurrentSession) -> SessionPublic:
    """The live session of this browser."""
    return SessionPublic(user_key=session.user_key, expires_at=session.expires_at)


@router.post("/v1/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(c: Deps, request: Request, response: Response) -> None:
    """End this browser's session (it stops working at once)."""
    await c.sessions.end(request.cookies.get(c.settings.session_cookie, ""))
    response.delete_cookie(c.settings.session_cookie, path="/")


@router.post("/v1/session/token", responses={401: {"model": Problem}})
async def user_token(c: Deps, session: CurrentSession) -> UserTokenPublic:
    """A short-lived platform user token (for the platform's pages and services)."""
    token = c.user_tokens.mint(user_key=session.user_key)
    return UserTokenPublic(access_token=token, expires_in=c.user_tokens.ttl_s)


@router.get("/.well-known/jwks.json", tags=["keys"])
async def jwks(c: Deps) -> JwksPublic:
    """The public keys of platform user tokens (current first)."""
    return JwksPublic.model_validate(c.user_tokens.jwks())


@router.delete(
    "/v1/me",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["account"],
    responses={401: {"model": Problem}, 503: {"model": Problem}},
)
async def delete_account(c: Deps, session: CurrentSession, response: Response) -> None:
    """Delete the account: the lookup, sessions, profile and videos go (see README)."""
    try:
        await c.accounts.delete(user_key=session.user_key)
    except PublishFailed as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the deletion could not be recorded; nothing was deleted, try again",
            headers={"Retry-After": "5"},
        ) from exc
    response.delete_cookie(c.settings.session_cookie, path="/")


dev_router = APIRouter(tags=["development"])


@dev_router.post("/dev/sms/last-code", responses={404: {"model": Problem}, 422: {"model": Problem}})
async def last_code(c: Deps, body: DevCodeQuery) -> DevCodePublic:
    """Development only: the last code sent to a number (404 outside development)."""
    if c.dev_sms is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    try:
        code = c.dev_sms.last_code(to_e164(body.phone))
    except InvalidPhone as exc:
        raise refused(exc) from None
    if code is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no code was sent to that number")
    return DevCodePublic(code=code)
