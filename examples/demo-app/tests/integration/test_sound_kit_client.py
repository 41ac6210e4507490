"""The Sound Kit client over real HTTP against a stand-in of its upload shape
(services/sound/README.md): init, chunks with Content-Range that cover the file exactly once,
complete, the status polled to the end (the journey test runs it against the real Sound Kit)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from demo_app import sound_kit
from demo_app.wav import tone
from kits_browser import live_server


def stand_in(received: dict[str, Any], *, refuse_init: int = 0) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/uploads")
    async def init(request: Request) -> Any:
        if refuse_init:
            return JSONResponse(
                {"data": {}, "error": {"code": "consent_revoked", "message": "revoked"}},
                status_code=refuse_init,
            )
        received["init"] = await request.json()
        received["auth"] = request.headers["authorization"]
        base = str(request.base_url).rstrip("/")
        return {"data": {"upload_id": "up_1", "upload_url": f"{base}/v1/uploads/up_1"}}

    @app.put("/v1/uploads/up_1")
    async def chunk(request: Request) -> Any:
        received.setdefault("ranges", []).append(request.headers["content-range"])
        received.setdefault("bytes", bytearray()).extend(await request.body())
        return {"data": {}}

    @app.post("/v1/uploads/up_1/complete")
    async def complete() -> Any:
        received["completed"] = True
        return JSONResponse({"data": {"state": "validating"}}, status_code=202)

    @app.get("/v1/uploads/up_1")
    async def status() -> Any:
        assert received.get("completed"), "polled before complete"
        received["polls"] = received.get("polls", 0) + 1
        done = received["polls"] >= 2
        return {"data": {"state": "ingested" if done else "validating"}}

    return app


async def test_an_upload_is_chunked_with_content_range_and_polled_to_ingested() -> None:
    received: dict[str, Any] = {}
    data = tone(seconds=0.5)
    async with live_server(stand_in(received)) as url:
        result = await sound_kit.upload(
            base_url=url,
            access_token="at",
            title="T",
            media_type="audio/wav",
            data=data,
            chunk_size=8000,
        )
    assert result == sound_kit.UploadResult(upload_id="up_1", status="ingested", reason="")
    count = -(-len(data) // 8000)
    assert received["init"] == {
        "title": "T",
        "media_type": "audio/wav",
        "total_size": len(data),
        "chunk_size": 8000,
        "chunk_count": count,
    }
    assert received["auth"] == "Bearer at"
    assert received["ranges"][0] == f"bytes 0-7999/{len(data)}"
    assert received["ranges"][-1] == f"bytes {(count - 1) * 8000}-{len(data) - 1}/{len(data)}"
    assert bytes(received["bytes"]) == data


@pytest.mark.parametrize("status", [401, 403, 413])
async def test_a_refusal_carries_the_status_and_the_envelopes_code(status: int) -> None:
    async with live_server(stand_in({}, refuse_init=status)) as url:
        with pytest.raises(sound_kit.SoundRefused) as refused:
            await sound_kit.upload(
                base_url=url,
                access_token="at",
                title="T",
                media_type="audio/wav",
                data=b"x",
                chunk_size=10,
            )
    assert (refused.value.status, refused.value.code) == (status, "consent_revoked")
