"""The deletion webhook with real Standard Webhooks signing; the store; the generated WAV."""

from __future__ import annotations

import base64
import io
import json
import os
import wave
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from demo_app.config import Settings
from demo_app.main import create_app
from demo_app.store import Store
from demo_app.wav import tone

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="development",
        data_dir=tmp_path,
        webhook_secret=SECRET,
        client_id="c",
        client_secret="s",
    )


def signed(body: bytes, *, secret: str = SECRET, msg_id: str = "del_1") -> dict[str, str]:
    now = datetime.now(UTC)
    sig = Webhook(secret).sign(msg_id, now, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": sig,
        "content-type": "application/json",
    }


def deletion(subject: str, request_id: str = "del_1") -> bytes:
    return json.dumps(
        {
            "type": "consent.deletion_requested",
            "timestamp": "2026-12-02T00:00:00Z",
            "data": {
                "request_id": request_id,
                "consent_id": "cn_1",
                "subject": subject,
                "reason": "user",
            },
        }
    ).encode()


async def post(tmp_path: Path, body: bytes, headers: dict[str, str]) -> httpx.Response:
    app = create_app(settings(tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/webhooks/platform", content=body, headers=headers)


async def test_a_signed_request_deletes_what_the_app_holds_and_answers_2xx(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save_token(open_id="u1", token={"access_token": "a"})
    store.add_upload(open_id="u1", upload_id="up1", title="t", status="ingested")
    store.save_token(open_id="u2", token={"access_token": "b"})
    store.bind_session(session_id="sid", open_id="u1")
    body = deletion("u1")
    r = await post(tmp_path, body, signed(body))
    assert r.status_code == 200, r.text
    assert r.json() == {"deleted": True, "rows": 3}
    assert store.session_user("sid") is None
    assert store.session_ended("sid")  # the browser is told, without the user's id kept
    assert store.token("u1") is None
    assert store.uploads("u1") == []
    assert store.token("u2") is not None  # someone else's data stays
    assert [d[0] for d in store.deletions()] == ["del_1"]


async def test_a_redelivered_request_is_answered_2xx_and_logged_once(tmp_path: Path) -> None:
    body = deletion("u1")
    assert (await post(tmp_path, body, signed(body))).status_code == 200
    assert (await post(tmp_path, body, signed(body))).status_code == 200
    assert len(Store(tmp_path).deletions()) == 1


@pytest.mark.parametrize("case", ["other secret", "changed body", "no signature", "no comma"])
async def test_a_bad_signature_is_401_and_deletes_nothing(tmp_path: Path, case: str) -> None:
    store = Store(tmp_path)
    store.save_token(open_id="u1", token={"access_token": "a"})
    body = deletion("u1")
    other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    headers = signed(body, secret=other) if case == "other secret" else signed(body)
    if case == "changed body":
        body = deletion("u1", request_id="del_2")
    if case == "no signature":
        del headers["webhook-signature"]
    if case == "no comma":
        headers["webhook-signature"] = "garbage"
    r = await post(tmp_path, body, headers)
    assert r.status_code == 401
    assert store.token("u1") is not None
    assert store.deletions() == []


async def test_a_signed_body_without_a_subject_is_400(tmp_path: Path) -> None:
    body = b'{"type": "x", "data": {}}'
    assert (await post(tmp_path, body, signed(body))).status_code == 400


def test_a_flow_is_taken_once_and_only_by_its_session(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save_flow(state="s", verifier="v", nonce="n", session_id="sid")
    assert store.take_flow(state="s", session_id="other") is None
    assert store.take_flow(state="s", session_id="sid") == ("v", "n")
    assert store.take_flow(state="s", session_id="sid") is None


def test_the_generated_tone_is_a_one_second_wav() -> None:
    with wave.open(io.BytesIO(tone()), "rb") as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (1, 22050, 22050)


def test_secrets_are_required_outside_development() -> None:
    with pytest.raises(ValueError, match="DEMO_CLIENT_ID"):
        Settings(environment="production", client_id="", client_secret="", webhook_secret="")
