"""HTTP routes of the sound service: translate a request, call one handler, map the result.

Errors use the Login Kit's envelope `{"error": {"code", "message", "log_id"}}` (auth's data
API), with the log id also in `X-Log-Id`. The chunk `PUT` is exempt from the shared 1 MiB body
limit (`is_chunk_put`) and bounds its body itself: exactly the length its range names, which the
plan keeps within `SOUND_MAX_CHUNK_BYTES`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.events import new_event_id
from sound.adapters.mongo_storage import ChunkTooLong
from sound.bootstrap import Container
from sound.domain.uploads import Plan, Refused

log = logging.getLogger(__name__)
router = APIRouter()
CHUNK_PATH = re.compile(r"^/v1/uploads/[0-9a-f]{32}$")
STATUS = {
    "access_token_invalid": 401,
    "scope_not_authorized": 403,
    "consent_required": 403,
    "not_found": 404,
    "invalid_params": 400,
    "invalid_range": 400,
    "incomplete_chunk": 400,
    "unsupported_media_type": 415,
    "too_large": 413,
    "range_not_satisfiable": 416,
    "range_conflict": 409,
    "upload_closed": 409,
    "incomplete_upload": 409,
    "service_unavailable": 503,
}
NO_STORE = {"Cache-Control": "no-store"}


def is_chunk_put(method: str, path: str) -> bool:
    """The one route the shared body limit steps aside for (it bounds its own body)."""
    return method == "PUT" and CHUNK_PATH.match(path) is not None


class InitRequest(BaseModel):
    """The init call (the big platforms' `source_info`, flattened)."""

    model_config = ConfigDict(extra="forbid")
    total_size: int = Field(ge=1, le=2**53)
    chunk_size: int = Field(ge=1, le=2**53)
    chunk_count: int = Field(ge=1, le=100_000)
    media_type: str = Field(min_length=1, max_length=100)
    title: str = Field(default="", max_length=300)


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def error(code: str, message: str, *, log_id: str, status: int) -> JSONResponse:
    """The envelope of a refusal."""
    headers = {**NO_STORE, "X-Log-Id": log_id}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="kits-sound", error="invalid_token"'
    if status == 503:
        headers["Retry-After"] = "1"
    body = {"error": {"code": code, "message": message, "log_id": log_id}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _answer(
    produce: Callable[[], Awaitable[dict[str, Any]]], *, route: str, status: int = 200
) -> Response:
    log_id = new_event_id()
    try:
        data = await produce()
    except Refused as refused:
        code = STATUS.get(refused.kind, 400)
        log.info("refused", extra={"route": route, "code": refused.kind, "log_id": log_id})
        return error(refused.kind, refused.message, log_id=log_id, status=code)
    except ChunkTooLong:
        return error("too_large", "the body is longer than its range", log_id=log_id, status=413)
    except Exception:
        log.exception("sound request failed", extra={"route": route, "log_id": log_id})
        return error("internal_error", "internal error", log_id=log_id, status=500)
    body = {"data": data, "error": {"code": "ok", "message": "", "log_id": log_id}}
    return JSONResponse(body, status_code=status, headers={**NO_STORE, "X-Log-Id": log_id})


@router.get("/.well-known/jwks.json", summary="Sound's service-token keys")
async def jwks(request: Request) -> dict[str, Any]:
    """The public keys auth and consent verify sound's service tokens with."""
    return _container(request).signer.jwks()


@router.post("/v1/uploads", summary="Open an upload session", status_code=201)
async def init_upload(request: Request) -> Response:
    """Declare size, chunking, media type and title; answers the upload id and URL."""
    c = _container(request)

    async def produce() -> dict[str, Any]:
        try:
            body = InitRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise Refused("invalid_params", f"{where or 'body'}: {first.get('msg', '')}") from exc
        plan = Plan(body.total_size, body.chunk_size, body.chunk_count, body.media_type)
        return await c.uploads.init(_bearer(request), plan, body.title)

    return await _answer(produce, route="upload.init", status=201)


@router.put("/v1/uploads/{upload_id}", summary="Send one chunk (Content-Range)")
async def put_chunk(upload_id: str, request: Request) -> Response:
    """One chunk, streamed into storage; a repeat with the same bytes is accepted, different
    bytes for a stored range are a 409."""
    c = _container(request)
    length_header = request.headers.get("content-length")
    length = int(length_header) if length_header and length_header.isdigit() else None

    async def body() -> AsyncIterator[bytes]:
        async for piece in request.stream():
            if piece:
                yield piece

    async def produce() -> dict[str, Any]:
        if length is not None and length > c.settings.max_chunk_bytes:
            raise Refused("too_large", f"a chunk is at most {c.settings.max_chunk_bytes} bytes")
        return await c.uploads.put_chunk(
            _bearer(request),
            upload_id,
            content_range=request.headers.get("content-range"),
            content_length=length,
            body=body(),
        )

    return await _answer(produce, route="upload.chunk")


@router.get("/v1/uploads/{upload_id}", summary="Upload status and stored ranges")
async def upload_status(upload_id: str, request: Request) -> Response:
    """receiving (with the stored ranges), validating, ingested or rejected with its reason."""
    c = _container(request)
    return await _answer(lambda: c.uploads.status(_bearer(request), upload_id), route="status")


@router.post("/v1/uploads/{upload_id}/complete", summary="Finish and validate", status_code=202)
async def complete_upload(upload_id: str, request: Request) -> Response:
    """Every chunk stored: consent is checked again and validation starts (poll the status)."""
    c = _container(request)
    return await _answer(
        lambda: c.uploads.complete(_bearer(request), upload_id), route="complete", status=202
    )


@router.get("/v1/sounds", summary="The user's sounds (sound.share), paged")
async def list_sounds(request: Request, cursor: str | None = None, max_count: int = 20) -> Response:
    """One page of the sounds the app may use, and the cursor of the next page."""
    c = _container(request)
    return await _answer(
        lambda: c.sharing.list(_bearer(request), cursor, max_count), route="sounds.list"
    )


@router.get("/v1/sounds/{sound_id}", summary="Fetch a sound (streamed, Range)")
async def fetch_sound(sound_id: str, request: Request) -> Response:
    """The bytes (200, or 206 for a `Range`), sent only after `transfer.recorded.v1` of exactly
    these bytes was acknowledged (503 and no bytes otherwise)."""
    c = _container(request)
    log_id = new_event_id()
    try:
        fetched = await c.sharing.fetch(_bearer(request), sound_id, request.headers.get("range"))
    except Refused as refused:
        code = STATUS.get(refused.kind, 400)
        return error(refused.kind, refused.message, log_id=log_id, status=code)
    except Exception:
        log.exception("sound fetch failed", extra={"log_id": log_id})
        return error("internal_error", "internal error", log_id=log_id, status=500)
    headers = {
        **NO_STORE,
        "X-Log-Id": log_id,
        "Accept-Ranges": "bytes",
        "Content-Length": str(fetched.end - fetched.start),
        "X-Content-SHA256": fetched.sha256,
    }
    if fetched.partial:
        headers["Content-Range"] = f"bytes {fetched.start}-{fetched.end - 1}/{fetched.size}"
    return StreamingResponse(
        fetched.pieces,
        status_code=206 if fetched.partial else 200,
        media_type=fetched.media_type,
        headers=headers,
    )
