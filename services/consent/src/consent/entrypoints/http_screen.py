"""The consent screen's routes and consent's JWKS (verdicts and receipts)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from consent.domain.handover import HandoverRefused
from consent.entrypoints import pages
from shared.kafka.publisher import PublishFailed
from shared.user_tokens import KeysUnavailable

router = APIRouter(tags=["consent screen"])
Token = Annotated[str, Query(min_length=1, max_length=8192)]
_STATUS = {
    "forged": status.HTTP_400_BAD_REQUEST,
    "malformed": status.HTTP_400_BAD_REQUEST,
    "other-browser": status.HTTP_403_FORBIDDEN,
    "unknown-app": status.HTTP_404_NOT_FOUND,
    "reused": status.HTTP_409_CONFLICT,
    "changed": status.HTTP_409_CONFLICT,
    "expired": status.HTTP_410_GONE,
}
RECEIPT_HEADER = "consent-receipt"


def _screen(request: Request) -> Any:
    return request.app.state.container.screen


def _flow_cookie(request: Request) -> str | None:
    name: str = request.app.state.container.settings.flow_cookie
    return request.cookies.get(name)


def _html(body: str, *, status_code: int = 200) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the challenge is in the URL
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; "
        "frame-ancestors 'none'"
    )
    return response


def _refused(exc: Exception) -> HTMLResponse:
    if isinstance(exc, HandoverRefused):
        return _html(pages.error_page(message=str(exc)), status_code=_STATUS[exc.kind])
    message = "the platform cannot check this request just now; try again in a moment"
    response = _html(pages.error_page(message=message), status_code=503)
    response.headers["Retry-After"] = "5"
    return response


@router.get("/consent", response_class=HTMLResponse)
async def consent_screen(request: Request, challenge: Token) -> Response:
    """Show what the app asks for (or why the request cannot be used)."""
    try:
        view = await _screen(request).open(token=challenge, nonce=_flow_cookie(request))
    except (HandoverRefused, KeysUnavailable) as exc:
        return _refused(exc)
    return _html(pages.consent_page(view, token=challenge))


@router.post("/consent", response_class=HTMLResponse)
async def consent_answer(
    request: Request,
    challenge: Annotated[str, Form(min_length=1, max_length=8192)],
    decision: Annotated[Literal["allow", "deny"], Form()],
) -> Response:
    """Record the answer once, then go back to auth with the signed verdict."""
    try:
        answered = await _screen(request).answer(
            token=challenge, nonce=_flow_cookie(request), allow=decision == "allow"
        )
    except (HandoverRefused, KeysUnavailable, PublishFailed) as exc:
        return _refused(exc)
    response = RedirectResponse(answered.redirect_to, status_code=status.HTTP_303_SEE_OTHER)
    if answered.receipt:
        response.headers[RECEIPT_HEADER] = answered.receipt
    return response


@router.get("/.well-known/jwks.json", tags=["keys"])
async def consent_jwks(request: Request) -> dict[str, list[dict[str, str]]]:
    """The keys that verify consent's verdicts and receipts."""
    keys: dict[str, list[dict[str, str]]] = request.app.state.container.signer.jwks()
    return keys
