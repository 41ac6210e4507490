"""The Sound Kit upload client (services/sound/README.md): init, chunked PUT with
Content-Range, complete, then the status polled. Its base URL is DEMO_SOUND_URL and every path
it uses is in this module, so a change of shape is a change here only.
  POST {base}/v1/uploads  {"title", "media_type", "total_size", "chunk_size", "chunk_count"}
                          -> 201 {"data": {"upload_id", "upload_url", ...}, "error": {...}}
  PUT  {upload_url}  Content-Range: bytes a-b/total   (one chunk)
  POST {base}/v1/uploads/{upload_id}/complete  -> 202 (validation starts)
  GET  {base}/v1/uploads/{upload_id}  -> {"data": {"state", "reason"?}, ...}
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import httpx


class SoundRefused(Exception):
    """The Sound Kit refused (status and the envelope's code/message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class UploadResult:
    upload_id: str
    status: str
    reason: str


def _refusal(r: httpx.Response) -> SoundRefused:
    try:
        error = r.json().get("error", {})
    except ValueError:
        error = {}
    return SoundRefused(r.status_code, str(error.get("code", "")), str(error.get("message", "")))


async def upload(
    *,
    base_url: str,
    access_token: str,
    title: str,
    media_type: str,
    data: bytes,
    chunk_size: int,
    timeout_s: float = 10.0,
    polls: int = 30,
) -> UploadResult:
    """Upload `data` and poll until it is ingested or rejected (or `polls` run out)."""
    base = base_url.rstrip("/")
    headers = {"Authorization": f"Bearer {access_token}"}
    count = max(1, math.ceil(len(data) / chunk_size))
    async with httpx.AsyncClient(timeout=timeout_s, headers=headers) as http:
        r = await http.post(
            f"{base}/v1/uploads",
            json={
                "title": title,
                "media_type": media_type,
                "total_size": len(data),
                "chunk_size": chunk_size,
                "chunk_count": count,
            },
        )
        if r.status_code >= 300:
            raise _refusal(r)
        init = r.json()["data"]
        upload_id, url = str(init["upload_id"]), str(init["upload_url"])
        for start in range(0, len(data), chunk_size):
            chunk = data[start : start + chunk_size]
            end = start + len(chunk) - 1
            r = await http.put(
                url,
                content=chunk,
                headers={
                    "Content-Range": f"bytes {start}-{end}/{len(data)}",
                    "Content-Type": media_type,
                },
            )
            if r.status_code >= 300:
                raise _refusal(r)
        r = await http.post(f"{base}/v1/uploads/{upload_id}/complete")
        if r.status_code >= 300:
            raise _refusal(r)
        status, reason = "validating", ""
        for _ in range(polls):
            r = await http.get(f"{base}/v1/uploads/{upload_id}")
            if r.status_code >= 300:
                raise _refusal(r)
            state = r.json()["data"]
            status, reason = str(state.get("state", "")), str(state.get("reason") or "")
            if status in ("ingested", "rejected"):
                break
            await asyncio.sleep(0.5)
    return UploadResult(upload_id=upload_id, status=status, reason=reason)
