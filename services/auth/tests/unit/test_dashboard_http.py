"""The dashboard's HTTP adapters against small live servers: fail closed on every bad answer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Header, Response

from auth.adapters.http_dashboard import HttpAccessReports, HttpUserConsents
from auth.service.dashboard_ports import UpstreamNotFound, UpstreamUnavailable
from kits_browser import free_socket, live_server


def upstream() -> FastAPI:
    app = FastAPI()

    @app.get("/reports/me")
    async def report(authorization: str = Header("")) -> dict[str, Any]:
        return {"user": authorization, "transfers": [], "violations": 0}

    @app.get("/v1/me/consents")
    async def garbage() -> Response:
        return Response(b"<html>", media_type="text/html")

    @app.post("/v1/me/consents/{consent_id}/revoke")
    async def revoke(consent_id: str) -> Response:
        return Response(status_code=404 if consent_id == "cn_x" else 503)

    return app


async def test_answers_and_refusals() -> None:
    async with live_server(upstream(), lifespan="off") as url:
        reports = HttpAccessReports(base_url=url, timeout_s=2)
        consents = HttpUserConsents(base_url=url, timeout_s=2)
        try:
            assert (await reports.report(token="tk"))["user"] == "Bearer tk"
            with pytest.raises(UpstreamUnavailable):
                await consents.of_user(token="tk")  # not JSON
            with pytest.raises(UpstreamNotFound):
                await consents.revoke(token="tk", consent_id="cn_x")
            with pytest.raises(UpstreamUnavailable):
                await consents.revoke(token="tk", consent_id="cn_y")  # 503
        finally:
            await reports.aclose()
            await consents.aclose()


async def test_nothing_listening_is_unavailable() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    reports = HttpAccessReports(base_url=f"http://127.0.0.1:{port}", timeout_s=1)
    try:
        with pytest.raises(UpstreamUnavailable):
            await reports.report(token="tk")
    finally:
        await reports.aclose()
