"""An ordinary OAuth client library (Authlib's AsyncOAuth2Client) against the token side:
code with PKCE, refresh, revoke, for a confidential (client_secret_basic and _post) and a
public client. The authorize step (H2) is stood in for by issuing the code directly."""

from __future__ import annotations

import secrets
import warnings

import pytest
from token_testing import REDIRECT, TokenHarness

from auth.domain.pkce import s256

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "the httpx module is deprecated in favour of httpx2"
    from authlib.integrations.httpx_client import AsyncOAuth2Client

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "none"])
async def test_authlib_client_fetches_refreshes_and_revokes(
    tokens: TokenHarness, method: str
) -> None:
    public = method == "none"
    client_id = tokens.public_id if public else tokens.client_id
    grant = tokens.grant(client_id=client_id)
    verifier = secrets.token_urlsafe(64)
    code = await tokens.auth.container.oauth_codes.issue(
        grant=grant, redirect_uri=REDIRECT, code_challenge=s256(verifier)
    )
    issuer = tokens.auth.settings.issuer
    async with AsyncOAuth2Client(
        client_id=client_id,
        client_secret=None if public else tokens.secret,
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
        redirect_uri=REDIRECT,
        transport=tokens.transport,
        base_url=issuer,
    ) as client:
        token = await client.fetch_token(f"{issuer}/oauth/token", code=code, code_verifier=verifier)
        assert token["open_id"] == grant.pairwise_subject
        assert "id_token" in token

        refreshed = await client.refresh_token(
            f"{issuer}/oauth/token", refresh_token=token["refresh_token"]
        )
        assert refreshed["refresh_token"] != token["refresh_token"]

        revoked = await client.revoke_token(
            f"{issuer}/oauth/revoke", token=refreshed["refresh_token"]
        )
        assert revoked.status_code == 200
    again = await tokens.post(
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]}
        | ({"client_id": client_id} if public else {}),
        headers={} if public else tokens.basic(),
    )
    assert again.status_code == 400, again.text
