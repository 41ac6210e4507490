"""The shared body limit: 413 past 1 MiB, except for the routes a service names as exempt."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request

from shared.http import MAX_BODY_BYTES, BodyLimit


def _app() -> FastAPI:
    app = FastAPI()

    @app.put("/stream")
    async def stream(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    @app.post("/small")
    async def small(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    app.add_middleware(BodyLimit, exempt=lambda method, path: (method, path) == ("PUT", "/stream"))
    return app


async def test_only_the_exempt_route_takes_a_body_over_the_limit() -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        exempt = await client.put("/stream", content=body)
        assert exempt.status_code == 200
        assert exempt.json() == {"read": len(body)}
        assert (await client.post("/small", content=body)).status_code == 413
        assert (await client.post("/stream", content=body)).status_code in (405, 413)
        assert (await client.post("/small", content=b"ok")).status_code == 200


async def _chunks(body: bytes) -> AsyncIterator[bytes]:  # no Content-Length: bounded as read
    yield body[:1000]
    yield body[1000:]


async def test_a_browser_gets_a_page_that_says_why_and_an_api_client_gets_json() -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)
    transport = httpx.ASGITransport(app=_app())
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        page = await client.post("/small", content=body, headers=browser)
        api = await client.post("/small", content=body)
        streamed = await client.post("/small", content=_chunks(body), headers=browser)
    assert page.status_code == streamed.status_code == api.status_code == 413
    assert page.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in page.text
    assert "larger than 1,048,576 bytes" in page.text
    assert streamed.headers["content-type"].startswith("text/html")
    assert api.json() == {"detail": f"the request body is larger than {MAX_BODY_BYTES} bytes"}
