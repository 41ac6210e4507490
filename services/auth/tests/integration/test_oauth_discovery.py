"""Discovery documents (RFC 8414, OpenID Connect Discovery 1.0)."""

from __future__ import annotations

import pytest
from token_testing import TokenHarness

pytestmark = pytest.mark.integration


async def test_rfc8414_3_metadata_describes_the_server(tokens: TokenHarness) -> None:
    issuer = tokens.auth.settings.issuer
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        response = await tokens.http.get(path)
        assert response.status_code == 200
        meta = response.json()
        assert meta["issuer"] == issuer
        assert meta["authorization_endpoint"] == f"{issuer}/oauth/authorize"
        assert meta["token_endpoint"] == f"{issuer}/oauth/token"
        assert meta["jwks_uri"] == f"{issuer}/oauth/jwks.json"
        assert meta["userinfo_endpoint"] == f"{issuer}/oauth/userinfo"
        assert meta["revocation_endpoint"] == f"{issuer}/oauth/revoke"
        assert meta["introspection_endpoint"] == f"{issuer}/oauth/introspect"
        assert meta["response_types_supported"] == ["code"]
        assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert meta["subject_types_supported"] == ["pairwise"]
        assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
        assert meta["authorization_response_iss_parameter_supported"] is True
        assert {"openid", "user.info.basic", "video.list", "sound.upload"} <= set(
            meta["scopes_supported"]
        )
        assert "client_secret_basic" in meta["token_endpoint_auth_methods_supported"]
        assert "none" not in meta["introspection_endpoint_auth_methods_supported"]
