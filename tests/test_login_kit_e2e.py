"""The Login Kit end to end, as an app developer meets it (issue 17's acceptance).

An ordinary OAuth client library (Authlib's AsyncOAuth2Client, PKCE S256, endpoints from
`/.well-known/openid-configuration` alone) runs the flow against auth, consent and audit on live
ports, on the real broker and database; the person's part (phone login, the real consent screen,
Allow) is done in Debian's Chromium. Then every transfer is found in the audit ledger with an
inclusion proof the audit's Python verifier accepts, and its recorded digest is the SHA-256 of
the exact bytes the client got. Last, the user revokes the consent at the consent service: the
very next data call (no sleep) and the refresh are refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from login_kit_stack import SCOPES, LoginKit, login_kit
from playwright.async_api import expect

from audit.verify import parse_inclusion_response, verify_inclusion_response
from auth_browser import LiveAuth, submit_code, submit_phone
from auth_testing import random_number
from kits_browser import free_socket, live_server
from kits_browser_fixtures import NewContext
from kits_testing import Servers, eventually, kafka_instance
from ledger_verify_testing import keys_of

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # "the httpx module is deprecated in favour of httpx2"
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

pytestmark = pytest.mark.integration
DATA_PATHS = ("/oauth/token", "/v2/user/info/", "/v2/video/list/")
INFO_FIELDS = "open_id,display_name,avatar_url"
VIDEO_FIELDS = "id,title,cover_image_url,duration,create_time"


def the_app() -> FastAPI:
    """The third-party app's redirect URI, played by the test."""
    app = FastAPI()

    @app.get("/cb", response_class=HTMLResponse)
    async def back(request: Request) -> str:
        del request
        return '<!doctype html><html lang="en"><title>Tune Share</title><h1>Back at the app</h1>'

    return app


@pytest.fixture
async def kit(servers: Servers) -> AsyncIterator[tuple[LoginKit, str]]:
    sock = free_socket()
    redirect = f"http://127.0.0.1:{sock.getsockname()[1]}/cb"
    async with (
        live_server(the_app(), lifespan="off", sock=sock),
        login_kit(servers, redirect=redirect) as stack,
    ):
        yield stack, redirect


class Bodies:
    """The exact bytes of every answer the client library got from the data-bearing paths."""

    def __init__(self) -> None:
        self.got: list[tuple[str, int, bytes]] = []

    async def hook(self, response: httpx.Response) -> None:
        await response.aread()
        path = urlsplit(str(response.request.url)).path
        if path in DATA_PATHS:
            self.got.append((path, response.status_code, response.content))

    def released(self) -> dict[str, str]:
        """sha256 hex → path, of every 200 answer that carried data."""
        return {hashlib.sha256(b).hexdigest(): p for p, s, b in self.got if s == 200}


async def browser_consent(new_context: NewContext, kit: LoginKit, url: str, redirect: str) -> str:
    """A person logs in by phone, sees the real consent screen, allows; the URL they land on."""
    page = await (await new_context()).new_page()
    await page.goto(url)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Log in with your phone")
    phone = random_number()
    await submit_phone(page, phone)
    await submit_code(page, await LiveAuth(url=kit.auth, settings=kit.settings).last_code(phone))
    await page.wait_for_url(f"{kit.consent.url}/consent?challenge=*")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Tune Share")
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url(f"{redirect}?*")
    return page.url


async def test_an_ordinary_client_library_runs_the_whole_flow_and_every_release_is_on_the_record(
    kit: tuple[LoginKit, str], new_context: NewContext
) -> None:
    stack, redirect = kit
    async with httpx.AsyncClient(timeout=10) as http:
        meta = (await http.get(f"{stack.auth}/.well-known/openid-configuration")).json()
    assert meta["issuer"] == stack.auth
    assert "S256" in meta["code_challenge_methods_supported"]
    bodies = Bodies()
    verifier = secrets.token_urlsafe(64)
    async with AsyncOAuth2Client(
        client_id=stack.client_id,
        client_secret=stack.client_secret,
        token_endpoint_auth_method="client_secret_basic",
        revocation_endpoint_auth_method="client_secret_basic",
        redirect_uri=redirect,
        scope=" ".join(SCOPES),
        code_challenge_method="S256",
        event_hooks={"response": [bodies.hook]},
        timeout=20,
    ) as client:
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier
        )
        landed = await browser_consent(new_context, stack, url, redirect)
        token = await client.fetch_token(
            meta["token_endpoint"],
            authorization_response=landed,
            code_verifier=verifier,
            state=state,
        )
        assert {"access_token", "refresh_token", "id_token", "open_id"} <= set(token)
        info = await client.get(f"{stack.auth}/v2/user/info/", params={"fields": INFO_FIELDS})
        assert info.status_code == 200, info.text
        assert info.json()["data"]["user"]["open_id"] == token["open_id"]
        assert info.json()["error"]["code"] == "ok"
        videos = await client.post(
            f"{stack.auth}/v2/video/list/", params={"fields": VIDEO_FIELDS}, json={"max_count": 5}
        )
        assert videos.status_code == 200, videos.text
        assert set(videos.json()["data"]) >= {"videos", "cursor", "has_more"}

        old_refresh = token["refresh_token"]
        rotated = await client.refresh_token(meta["token_endpoint"])
        assert rotated["refresh_token"] != old_refresh
        again = await client.get(f"{stack.auth}/v2/user/info/", params={"fields": INFO_FIELDS})
        assert again.status_code == 200, again.text

        # Every release is on the record, and the ledger proves it.
        released = bodies.released()
        assert sorted(released.values()) == sorted(
            ["/oauth/token", "/oauth/token", "/v2/user/info/", "/v2/user/info/", "/v2/video/list/"]
        )
        transfer = await _check_ledger(stack, released)

        # The user revokes the consent; the very next data call and the refresh are refused.
        await _revoke(stack, transfer["user_key"], transfer["consent_id"])
        refused = await client.get(f"{stack.auth}/v2/user/info/", params={"fields": INFO_FIELDS})
        assert refused.status_code in (401, 403), refused.text
        assert refused.json()["data"] == {}
        assert refused.json()["error"]["code"] != "ok"
        with pytest.raises(OAuthError):
            await client.refresh_token(meta["token_endpoint"])
    assert bodies.released() == released  # nothing more left after the revoke


async def _check_ledger(stack: LoginKit, released: dict[str, str]) -> dict[str, Any]:
    """Each recorded transfer is in the ledger with a verifying inclusion proof; the recorded
    digests are exactly the digests of the bodies the client got. The last transfer's data."""
    events = await stack.transfers(at_least=len(released))
    assert {e.data.digest_sha256 for e in events} == set(released)
    assert len(events) == len(released)
    keys = keys_of(await stack.keys())
    holder: dict[str, httpx.Response] = {}
    for event in events:

        async def covered(event: Any = event) -> bool:
            holder["answer"] = await stack.entry(event)
            return holder["answer"].status_code == 200

        await eventually(covered, timeout_s=60)
        parsed = parse_inclusion_response(holder["answer"].json())
        verify_inclusion_response(response=parsed, public_keys=keys)
        assert parsed.entry.data == event.to_bytes()
        recorded = json.loads(parsed.entry.data)["data"]
        assert recorded["digest_sha256"] in released
        assert recorded["app_id"] == stack.client_id
    last: dict[str, Any] = json.loads(events[-1].to_bytes())["data"]
    return last


async def _revoke(stack: LoginKit, user_key: str, consent_id: str) -> None:
    """The user revokes at the consent service (with their session token as auth signs it)."""
    async with httpx.AsyncClient(base_url=stack.consent.url, timeout=20) as http:
        answer = await http.post(
            f"/v1/me/consents/{consent_id}/revoke",
            headers={"Authorization": f"Bearer {stack.user_token(user_key)}"},
        )
    assert answer.status_code == 200, answer.text


# The broker-stop test owns a second real Kafka (its own instance, ports and data), started and
# stopped with the project's script as shared/tests/integration/test_publish_outage.py does; the
# shared broker of the other tests is never touched.
ROOT = Path(__file__).resolve().parents[1]
OUTAGE = ("login-kit-outage", int(os.environ.get("LOGIN_KIT_OUTAGE_PORT", "19392")))
DEADLINE_S = 2.0  # auth's PUBLISH_DEADLINE_S in this test: the durable publish's deadline


def outage_kafka(action: str) -> None:
    kafka_instance(action, name=OUTAGE[0], port=OUTAGE[1])


@pytest.fixture
def outage_broker() -> Iterator[str]:
    outage_kafka("up")
    try:
        yield f"127.0.0.1:{OUTAGE[1]}"
    finally:
        outage_kafka("down")


async def test_with_the_broker_stopped_a_data_request_is_a_503_envelope_and_releases_nothing(
    servers: Servers, outage_broker: str, new_context: NewContext
) -> None:
    sock = free_socket()
    redirect = f"http://127.0.0.1:{sock.getsockname()[1]}/cb"
    async with (
        live_server(the_app(), lifespan="off", sock=sock),
        login_kit(
            servers,
            redirect=redirect,
            kafka_bootstrap_servers=outage_broker,
            publish_deadline_s=DEADLINE_S,
        ) as stack,
    ):
        verifier = secrets.token_urlsafe(64)
        async with AsyncOAuth2Client(
            client_id=stack.client_id,
            client_secret=stack.client_secret,
            redirect_uri=redirect,
            scope=" ".join(SCOPES),
            code_challenge_method="S256",
            timeout=20,
        ) as client:
            url, state = client.create_authorization_url(
                f"{stack.auth}/oauth/authorize", code_verifier=verifier
            )
            landed = await browser_consent(new_context, stack, url, redirect)
            await client.fetch_token(
                f"{stack.auth}/oauth/token",
                authorization_response=landed,
                code_verifier=verifier,
                state=state,
            )
            info = f"{stack.auth}/v2/user/info/"
            assert (await client.get(info, params={"fields": INFO_FIELDS})).status_code == 200

            await asyncio.to_thread(outage_kafka, "down")
            for _ in range(3):
                started = time.monotonic()
                down = await client.get(info, params={"fields": INFO_FIELDS})
                took = time.monotonic() - started
                assert down.status_code == 503, down.text
                assert took < DEADLINE_S + 1.0, took
                body = down.json()
                assert body["data"] == {}
                assert body["error"]["code"] == "service_unavailable"
                assert body["error"]["log_id"]
                assert "open_id" not in down.text
                assert "display_name" not in down.text

            await asyncio.to_thread(outage_kafka, "up")
            async with asyncio.timeout(90):
                while True:
                    back = await client.get(info, params={"fields": INFO_FIELDS})
                    if back.status_code == 200:
                        break
                    assert back.status_code == 503, back.text
                    await asyncio.sleep(0.2)
            assert back.json()["data"]["user"]["open_id"]
