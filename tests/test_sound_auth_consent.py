"""Sound against the REAL auth (resolve) and consent (check) on live ports.

Sound signs its calls with its own service tokens (`SOUND_SERVICE_TOKEN_KEYS`, the JWKS it
serves at `/.well-known/jwks.json`); auth's `AUTH_SERVICE_CALLERS` and consent's
`CONSENT_SERVICE_CALLERS` list `sound` with that JWKS, as `scripts/stack.py` and compose wire it.
An access token issued by auth's token endpoint (audience `kits-sound-kit`, `sound.upload`) opens
an upload once consent holds a consent; after the user's revoke returned, the next chunk is
refused.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from consent_live import live_consent
from oauth_fakes import FakeConsentCheck, FakeTransfers
from pymongo import AsyncMongoClient
from token_testing import TokenHarness, register_apps

from auth.bootstrap import bootstrap as auth_bootstrap
from auth.main import create_app as create_auth
from auth_testing import ISSUER, AuthHarness, auth_settings
from kits_testing import Servers
from sound.adapters.http_platform import HttpTokenResolver
from sound.adapters.jose_service_tokens import ServiceTokenSigner
from sound.main import create_app as create_sound
from sound_testing import audio, sound_settings

pytestmark = pytest.mark.integration
SOUND_KEYS = "dev-only-sound-cross-service-key"


def sound_callers() -> dict[str, Any]:
    return {"sound": {"jwks": json.dumps(ServiceTokenSigner(seeds=SOUND_KEYS).jwks())}}


@pytest.fixture
async def auth(
    servers: Servers, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[TokenHarness]:
    settings = auth_settings(servers, service_callers=sound_callers())
    consent, transfers = FakeConsentCheck(), FakeTransfers()
    container = auth_bootstrap(settings, consent_check=consent, transfers=transfers)
    app = create_auth(container=container)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=ISSUER) as client,
    ):
        harness = AuthHarness(container=container, http=client)
        client_id, secret, public_id = await register_apps(harness)
        yield TokenHarness(harness, consent, transfers, client_id, secret, public_id, transport)
    await mongo_client.drop_database(settings.database_name)


async def test_an_upload_goes_through_real_auth_and_consent_and_stops_at_revoke(
    servers: Servers,
    auth: TokenHarness,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> None:
    tokens = auth
    grant = tokens.grant(scopes=("sound.upload",))
    access = (await tokens.tokens(grant))["access_token"]
    async with live_consent(servers, service_callers=sound_callers()) as consent:
        await consent.register(tokens.client_id, scopes=("sound.upload", "user.info.basic"))
        settings = sound_settings(
            servers,
            auth_url=ISSUER,
            consent_url=consent.url,
            service_token_keys=SOUND_KEYS,
            call_timeout_s=10,
            consent_events_topic=await make_topic(unique("t-sound-consent-events")),
            consent_events_group=unique("t-sound-consent"),
        )
        # The real resolve adapter, over auth's app in this process (auth's own harness).
        resolver = HttpTokenResolver(
            base_url=ISSUER,
            tokens=ServiceTokenSigner(seeds=SOUND_KEYS),
            timeout_s=10,
            transport=tokens.transport,
        )
        app = create_sound(settings, tokens=resolver)
        headers = {"Authorization": f"Bearer {access}"}
        data = audio("wav", seconds=1.0)
        chunk = 64 * 1024
        plan = {
            "total_size": len(data),
            "chunk_size": chunk,
            "chunk_count": -(-len(data) // chunk),
            "media_type": "audio/wav",
            "title": "cross",
        }
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://sound"
                ) as sound,
            ):
                refused = await sound.post("/v1/uploads", json=plan, headers=headers)
                assert refused.status_code == 403, refused.text
                assert refused.json()["error"]["code"] == "consent_required"
                consent_id = await consent.grant(
                    grant.user_key, tokens.client_id, ("sound.upload",)
                )
                opened = await sound.post("/v1/uploads", json=plan, headers=headers)
                assert opened.status_code == 201, opened.text
                upload_id = opened.json()["data"]["upload_id"]
                first = await sound.put(
                    f"/v1/uploads/{upload_id}",
                    content=data[:chunk],
                    headers={**headers, "Content-Range": f"bytes 0-{chunk - 1}/{len(data)}"},
                )
                assert first.status_code == 200, first.text
                await consent.revoke(grant.user_key, consent_id)
                after = await sound.put(
                    f"/v1/uploads/{upload_id}",
                    content=data[chunk : 2 * chunk],
                    headers={
                        **headers,
                        "Content-Range": f"bytes {chunk}-{2 * chunk - 1}/{len(data)}",
                    },
                )
                assert after.status_code == 403, after.text
                bad = await sound.post(
                    "/v1/uploads", json=plan, headers={"Authorization": "Bearer garbage"}
                )
                assert bad.status_code == 401
        finally:
            await mongo_client.drop_database(settings.database_name)
