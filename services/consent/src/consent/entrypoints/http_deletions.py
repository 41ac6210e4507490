"""`POST /internal/apps/{app_id}/webhook-secret`: an app's deletion-webhook secret, for auth.

Protected by `require_webhook_secret_caller`, this router's own service-to-service check (the
lead swaps it for core's shared one once merged): a short-lived Ed25519 JWT, `typ`
`kits-service+jwt`, `iss` = `sub` = the configured caller, `aud` = `consent`, `exp` at most
`MAX_LIFETIME_S` after `iat`, signed by a key of the caller's configured JWKS; else 401.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from pydantic import BaseModel

from consent.bootstrap import Container
from shared.http import Problem
from shared.user_tokens import LEEWAY_S, MAX_TOKEN_CHARS, import_jwks

SERVICE_TOKEN_TYP = "kits-service+jwt"
AUDIENCE = "consent"
MAX_LIFETIME_S = 300
ALGORITHM = "Ed25519"
router = APIRouter(prefix="/internal", tags=["internal"])
AppId = Annotated[
    str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
]


class WebhookSecretPublic(BaseModel):
    """An app's Standard Webhooks signing secret (`whsec_…`), to show its developer once."""

    app_id: str
    secret: str
    # Whether consent has taken in the app's `auth.app_registered.v1` yet. The secret is the
    # same either way (derived from the app id), but until `known` is true the consent screen
    # refuses the app, so a registration step waits for it before sending users.
    known: bool


class ServiceCallerCheck:
    """Verifies one caller's service tokens against its inline JWKS (none configured: all 401)."""

    def __init__(self, *, caller: str, jwks: str) -> None:
        self.caller = caller
        self._keys: dict[str, OKPKey] = import_jwks(json.loads(jwks)) if jwks else {}
        self._claims = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_S,
            iss={"essential": True, "value": caller},
            sub={"essential": True, "value": caller},
            aud={"essential": True, "value": AUDIENCE},
            exp={"essential": True},
            iat={"essential": True},
        )

    def verify(self, token: str) -> None:
        """Return when the token is the caller's, live and for us; else raise ValueError."""
        if not self._keys:
            raise ValueError("no caller keys are configured")
        key = self._keys.get(_kid(token))
        if key is None:
            raise ValueError("unknown kid")
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM]).claims
            self._claims.validate(claims)
        except (JoseError, TypeError, RecursionError) as exc:
            raise ValueError(f"service token rejected: {type(exc).__name__}") from exc
        if float(claims["exp"]) - float(claims["iat"]) > MAX_LIFETIME_S:
            raise ValueError("service token lives too long")


def _kid(token: str) -> str:
    parts = token.split(".")
    if len(token) > MAX_TOKEN_CHARS or len(parts) != 3 or not all(parts):
        raise ValueError("not a compact JWS")
    try:
        header: Any = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, RecursionError) as exc:
        raise ValueError("unreadable header") from exc
    typ = header.get("typ") if isinstance(header, dict) else None
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != SERVICE_TOKEN_TYP:
        raise ValueError(f"header must name typ {SERVICE_TOKEN_TYP}")
    if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
        raise ValueError(f"header must name alg {ALGORITHM} and a kid")
    return str(header["kid"])


async def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _check(request: Request, container: Container) -> ServiceCallerCheck:
    check: ServiceCallerCheck | None = getattr(request.app.state, "webhook_secret_callers", None)
    if check is None:
        settings = container.settings
        check = ServiceCallerCheck(
            caller=settings.webhook_secret_caller, jwks=settings.webhook_secret_caller_jwks
        )
        request.app.state.webhook_secret_callers = check
    return check


async def require_webhook_secret_caller(
    request: Request, container: Annotated[Container, Depends(_container)]
) -> None:
    """401 unless the request bears a valid service token of the configured caller."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token:
            raise ValueError("a bearer service token is required")
        _check(request, container).verify(token.strip())
    except ValueError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"service authentication failed: {str(exc)[:200]}",
            headers={"WWW-Authenticate": 'Bearer realm="kits-services"'},
        ) from exc


@router.post(
    "/apps/{app_id}/webhook-secret",
    dependencies=[Depends(require_webhook_secret_caller)],
    responses={401: {"model": Problem}, 422: {"model": Problem}},
)
async def webhook_secret(
    app_id: AppId, container: Annotated[Container, Depends(_container)]
) -> WebhookSecretPublic:
    """The app's deletion-webhook signing secret (derived; the same on every call)."""
    known = await container.apps.get(app_id) is not None
    return WebhookSecretPublic(
        app_id=app_id, secret=container.deletions.secret(app_id), known=known
    )
