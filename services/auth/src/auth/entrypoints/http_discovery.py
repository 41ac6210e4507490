"""Discovery: RFC 8414 authorization server metadata and OpenID Connect Discovery 1.0."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from auth.config import AuthSettings
from auth.domain.scopes import CATALOGUE
from auth.domain.token_rules import OPENID
from auth.entrypoints.deps import Deps

router = APIRouter(tags=["discovery"])
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
CLAIMS = ["iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "open_id"]
CACHE = {"Cache-Control": "public, max-age=300"}


def metadata(settings: AuthSettings) -> dict[str, Any]:
    """The server's metadata, every endpoint under the issuer."""
    issuer = settings.issuer.rstrip("/")
    return {
        "issuer": settings.issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/oauth/jwks.json",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS[:2],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": [OPENID, *(scope.name for scope in CATALOGUE)],
        "claims_supported": CLAIMS,
        "authorization_response_iss_parameter_supported": True,
    }


@router.get("/.well-known/oauth-authorization-server")
async def oauth_metadata(c: Deps) -> JSONResponse:
    """RFC 8414 authorization server metadata."""
    return JSONResponse(metadata(c.settings), headers=CACHE)


@router.get("/.well-known/openid-configuration")
async def openid_configuration(c: Deps) -> JSONResponse:
    """OpenID Connect Discovery 1.0 provider metadata (the same document)."""
    return JSONResponse(metadata(c.settings), headers=CACHE)
