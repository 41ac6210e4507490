"""create_app(): Tunetown's pages, the OAuth callback and the deletion webhook."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from authlib.integrations.base_client.errors import OAuthError
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from demo_app import pages, sound_kit, wav
from demo_app.config import Settings
from demo_app.platform import LoginFailed, Platform, Revoked
from demo_app.store import Store

log = logging.getLogger("demo_app")
COOKIE = "tunetown_sid"
REVOKED = (
    "Access was revoked by the user. Tunetown has dropped its tokens; log in again to continue."
)


DELETED = (
    "Access was revoked by the user, and Tunetown deleted what it held about you at the "
    "platform's request."
)


def html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    store = Store(settings.data_dir)
    platform = Platform(
        auth_url=settings.auth_url,
        auth_api_url=settings.auth_api_url,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        redirect_uri=settings.redirect_uri,
        scopes=settings.scopes,
        timeout_s=settings.http_timeout_s,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await platform.close()
        store.close()

    app = FastAPI(title="Tunetown", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.store, app.state.platform, app.state.settings = store, platform, settings

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        return html(pages.error("Error", str(exc.detail)), exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        if isinstance(exc, httpx.HTTPError | OAuthError):  # the platform away or refusing
            log.warning("platform call failed: %s", type(exc).__name__)
            return html(
                pages.error(
                    "Platform unavailable", "The platform did not answer; try again in a moment."
                ),
                503,
            )
        log.exception("unexpected error")
        return html(pages.error("Error", "Something went wrong in Tunetown."), 500)

    def user_of(request: Request) -> str | None:
        sid = request.cookies.get(COOKIE, "")
        return store.session_user(sid) if 0 < len(sid) <= 100 else None

    async def token_for(open_id: str) -> dict[str, Any] | None:
        """The user's token, refreshed and rotated when due; None (and dropped) if revoked."""
        token = store.token(open_id)
        if token is None:
            return None
        try:
            token, rotated = await platform.fresh(token)
        except Revoked:
            store.drop_token(open_id)
            return None
        if rotated:
            store.save_token(open_id=open_id, token=token)
        return token

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready")
    async def ready() -> Response:
        """Ready when the platform's discovery document answers."""
        try:
            await platform.metadata()
        except (httpx.HTTPError, ValueError):
            return JSONResponse({"status": "auth unreachable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        """The profile, the videos and the upload form (or the welcome page)."""
        open_id = user_of(request)
        if open_id is None:
            if store.session_ended(request.cookies.get(COOKIE, "")[:100]):
                return html(pages.signed_out(DELETED))
            return html(pages.signed_out())
        token = await token_for(open_id)
        if token is None:
            return html(pages.signed_out(REVOKED))
        try:
            profile = await platform.profile(token)
            videos = await platform.videos(token)
        except Revoked:
            store.drop_token(open_id)
            return html(pages.signed_out(REVOKED), 403)
        notice = request.query_params.get("notice", "")[:200]
        return html(
            pages.home(
                profile=profile, videos=videos, uploads=store.uploads(open_id), notice=notice
            )
        )

    @app.get("/login")
    async def login(request: Request) -> Response:
        """Start the authorization code flow (PKCE S256, state, nonce)."""
        sid = request.cookies.get(COOKIE) or secrets.token_urlsafe(32)
        start = await platform.start()
        store.save_flow(
            state=start.state, verifier=start.verifier, nonce=start.nonce, session_id=sid
        )
        response = RedirectResponse(start.url, status_code=303)
        response.set_cookie(COOKIE, sid, httponly=True, samesite="lax", path="/")
        return response

    @app.get("/callback")
    async def callback(request: Request) -> Response:
        """The platform's redirect: state, iss, code exchange, ID token, then home."""
        params = {k: v[:4096] for k, v in request.query_params.items()}
        sid = request.cookies.get(COOKIE, "")
        flow = store.take_flow(state=params.get("state", ""), session_id=sid) if sid else None
        if flow is None:
            return html(
                pages.error(
                    "Sign-in failed",
                    "This sign-in was not started here or has expired. Start again.",
                ),
                400,
            )
        try:
            token = await platform.finish(
                params=params, state=params["state"], verifier=flow[0], nonce=flow[1]
            )
        except LoginFailed as exc:
            return html(pages.error("Sign-in failed", str(exc)), 400)
        open_id = str(token.get("open_id", ""))
        if not open_id:
            return html(pages.error("Sign-in failed", "the platform sent no open_id"), 502)
        store.save_token(open_id=open_id, token=token)
        store.bind_session(session_id=sid, open_id=open_id)
        return RedirectResponse("/", status_code=303)

    @app.post("/upload")
    async def upload(request: Request) -> Response:
        """Upload the chosen file, or a generated tone, through the Sound Kit."""
        open_id = user_of(request)
        if open_id is None:
            return html(pages.error("Not signed in", "Log in first."), 401)
        if int(request.headers.get("content-length") or 0) > settings.max_upload_bytes + 65536:
            return html(pages.error("Too big", "That file is too big for Tunetown."), 413)
        form = await request.form()
        title = str(form.get("title") or "My Tunetown tone")[:100]
        file = form.get("file")
        data, media_type = b"", "audio/wav"
        if file is not None and not isinstance(file, str):
            data = await file.read(settings.max_upload_bytes + 1)
            media_type = file.content_type or "application/octet-stream"
        if not data:
            data, media_type = wav.tone(), "audio/wav"
        if len(data) > settings.max_upload_bytes:
            return html(pages.error("Too big", "That file is too big for Tunetown."), 413)
        token = await token_for(open_id)
        if token is None:
            return html(pages.signed_out(REVOKED), 403)
        try:
            result = await sound_kit.upload(
                base_url=settings.sound_url,
                access_token=token["access_token"],
                title=title,
                media_type=media_type,
                data=data,
                chunk_size=settings.upload_chunk_size,
                timeout_s=settings.http_timeout_s,
            )
        except sound_kit.SoundRefused as exc:
            if exc.status in (401, 403):
                store.drop_token(open_id)
                return html(pages.signed_out(REVOKED), 403)
            return html(pages.error("Upload refused", f"The Sound Kit said: {exc}"), 502)
        except httpx.HTTPError:
            return html(pages.error("Upload failed", "The Sound Kit did not answer."), 502)
        store.add_upload(
            open_id=open_id,
            upload_id=result.upload_id,
            title=title,
            status=result.status + (f" ({result.reason})" if result.reason else ""),
        )
        return RedirectResponse(f"/?notice=Upload+{result.status}", status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        sid = request.cookies.get(COOKIE, "")
        if sid:
            store.bind_session(session_id=sid, open_id=None)
        return RedirectResponse("/", status_code=303)

    @app.post("/webhooks/platform")
    async def deletion_webhook(request: Request) -> Response:
        """A signed deletion request: verify (Standard Webhooks), delete, answer 2xx."""
        body = await request.body()
        if len(body) > 65536:
            return JSONResponse({"detail": "body too large"}, status_code=413)
        try:
            payload = Webhook(settings.webhook_secret).verify(body, dict(request.headers))
        except (WebhookVerificationError, ValueError):
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        data = payload.get("data") if isinstance(payload, dict) else None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("subject"), str)
            or not isinstance(data.get("request_id"), str)
        ):
            return JSONResponse({"detail": "data.subject and data.request_id required"}, 400)
        rows = store.delete_user(
            request_id=data["request_id"][:200],
            subject=data["subject"][:200],
            reason=str(data.get("reason", ""))[:50],
        )
        return JSONResponse({"deleted": True, "rows": rows})

    @app.get("/deletions", response_class=HTMLResponse)
    async def deletions() -> Response:
        """The log of deletion requests received."""
        return html(pages.deletions(store.deletions()))

    return app


def run() -> None:
    """The `demo-app` console script."""
    settings = Settings()
    logging.basicConfig(level=logging.INFO)
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port)
