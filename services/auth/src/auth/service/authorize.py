"""`GET /oauth/authorize`: check the request, find the user, then issue a code at once (an
active consent covers it) or start the consent hand-over (README "OAuth 2.0: authorize").

The order is RFC 6749 4.1.2.1's: client and redirect URI first (an error page when either is
wrong, never a redirect), then the rest (error redirects carrying `state` and `iss`).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode

from auth.domain.apps import App
from auth.domain.authorize_rules import (
    AuthorizeRequest,
    ClientRefused,
    Params,
    RequestRefused,
    check_redirect_uri,
    client_part,
    code_redirect,
    error_redirect,
    parse_request,
)
from auth.domain.consent_flow import Flow, nonce_hash, purpose_of
from auth.domain.grants import ConsentAnswer, ConsentUnavailable, Grant
from auth.domain.identity import pairwise_subject
from auth.service.authorize_ports import (
    AppReader,
    ChallengeFacts,
    ChallengeSigner,
    FlowStore,
    SessionReader,
)
from auth.service.oauth_ports import AuthorizationCodes, ConsentCheck
from auth.service.ports import Session

log = logging.getLogger(__name__)
MAX_NEXT_CHARS = 2000  # the login page's `next` limit
LOGIN_PROMPTS = frozenset({"login", "select_account"})


@dataclass(frozen=True, slots=True)
class Redirect:
    """A 303 to `location`; `flow_nonce`, when set, goes in the flow cookie; `end_flow`: the
    browser's flow is over (clear its cookie)."""

    location: str
    flow_nonce: str | None = None
    end_flow: bool = False


@dataclass(frozen=True, slots=True)
class ErrorPage:
    """An HTML error page for the user (no redirect); `end_flow` as for Redirect."""

    status: int
    message: str
    end_flow: bool = False


Outcome = Redirect | ErrorPage


@dataclass
class Authorize:
    """The authorization endpoint's use case (built once, in bootstrap)."""

    apps: AppReader
    sessions: SessionReader
    consent: ConsentCheck
    codes: AuthorizationCodes
    flows: FlowStore
    challenges: ChallengeSigner
    issuer: str
    consent_url: str  # the consent screen's base URL (the browser goes there)
    pairwise_secret: bytes
    challenge_ttl_s: int
    clock: Callable[[], float] = time.time

    @property
    def callback_url(self) -> str:
        """Where consent sends the browser back (`return_to`)."""
        return f"{self.issuer}/oauth/consent/callback"

    async def authorize(self, *, params: Params, session_token: str, here: str) -> Outcome:
        """The answer to one authorization request (`here`: its local path and query)."""
        try:
            client = client_part(params)
            app = await self.apps.get(client.client_id)
            if app is None:
                raise ClientRefused("this client is not registered")
            check_redirect_uri(client.redirect_uri, registered=app.redirect_uris)
        except ClientRefused as exc:
            return ErrorPage(400, str(exc))
        try:
            request = parse_request(params, client=client, allowed_scopes=app.allowed_scopes)
            if len(here) > MAX_NEXT_CHARS:
                raise RequestRefused("invalid_request", "the request is too long", state=None)
            return await self._for_user(request, app=app, session_token=session_token, here=here)
        except RequestRefused as exc:
            return Redirect(error_redirect(client.redirect_uri, exc, issuer=self.issuer))

    async def _for_user(
        self, request: AuthorizeRequest, *, app: App, session_token: str, here: str
    ) -> Outcome:
        try:
            session = await self.sessions.resolve(session_token)
        except Exception:
            log.exception("sessions unreadable", extra={"client_id": app.client_id})
            raise RequestRefused(
                "temporarily_unavailable", "try again in a moment", state=request.state
            ) from None
        if session is None or request.prompt & LOGIN_PROMPTS:
            if "none" in request.prompt:
                raise RequestRefused("login_required", "no user is logged in", state=request.state)
            return Redirect(f"/login?next={quote(_without_login_prompt(here), safe='')}")
        try:
            answer = await self.consent.check(
                user_key=session.user_key, app_id=app.client_id, scopes=request.consent_scopes
            )
        except ConsentUnavailable:
            raise RequestRefused(
                "temporarily_unavailable", "consent cannot be checked now", state=request.state
            ) from None
        if answer.allowed and "consent" not in request.prompt:
            grant = self._covered(request, app=app, session=session, answer=answer)
            return Redirect(await self.issue(request, grant=grant))
        if "none" in request.prompt:
            raise RequestRefused("consent_required", "the user must consent", state=request.state)
        return await self._hand_over(request, app=app, session=session)

    def _covered(
        self, request: AuthorizeRequest, *, app: App, session: Session, answer: ConsentAnswer
    ) -> Grant:
        """The grant an active consent (the check's answer) covers."""
        return Grant(
            client_id=app.client_id,
            user_key=session.user_key,
            pairwise_subject=self._pairwise(session.user_key, app.client_id),
            scopes=request.scopes,
            consent_id=answer.consent_id or "",
            consent_version=answer.version or 0,
            terms_version=answer.terms_version or "",
            purpose=purpose_of(app.name),
            auth_time=int(session.created_at),
            nonce=request.nonce,
        )

    async def issue(self, request: AuthorizeRequest, *, grant: Grant) -> str:
        """Issue the code and build the success redirect (or a `temporarily_unavailable`)."""
        try:
            code = await self.codes.issue(
                grant=grant,
                redirect_uri=request.redirect_uri,
                code_challenge=request.code_challenge,
            )
        except Exception:
            log.exception("no authorization code issued", extra={"client_id": request.client_id})
            refused = RequestRefused(
                "temporarily_unavailable", "try again in a moment", state=request.state
            )
            return error_redirect(request.redirect_uri, refused, issuer=self.issuer)
        return code_redirect(request, code=code, issuer=self.issuer)

    def _pairwise(self, user_key: str, app_id: str) -> str:
        return pairwise_subject(self.pairwise_secret, user_key=user_key, app_id=app_id)

    async def _hand_over(self, request: AuthorizeRequest, *, app: App, session: Session) -> Outcome:
        nonce, now = secrets.token_urlsafe(32), self.clock()
        flow = Flow(
            flow_id=secrets.token_urlsafe(32),
            challenge_id=secrets.token_urlsafe(24),
            nonce_sha256=nonce_hash(nonce),
            request=request,
            user_key=session.user_key,
            pairwise_subject=self._pairwise(session.user_key, app.client_id),
            purpose=purpose_of(app.name),
            auth_time=int(session.created_at),
            created_at=now,
            expires_at=now + self.challenge_ttl_s,
        )
        try:
            await self.flows.add(flow)
        except Exception:
            log.exception("consent flow not stored", extra={"client_id": app.client_id})
            raise RequestRefused(
                "temporarily_unavailable", "try again in a moment", state=request.state
            ) from None
        facts = ChallengeFacts(app_id=app.client_id, return_to=self.callback_url)
        token = self.challenges.sign(flow, facts=facts)
        location = f"{self.consent_url.rstrip('/')}/consent?{urlencode({'challenge': token})}"
        return Redirect(location, flow_nonce=nonce)


def _without_login_prompt(here: str) -> str:
    """The request to come back to after the login (a `prompt=login` would loop)."""
    path, _, query = here.partition("?")
    kept = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "prompt":
            value = " ".join(p for p in value.split() if p not in LOGIN_PROMPTS)
        if value or name != "prompt":
            kept.append((name, value))
    return f"{path}?{urlencode(kept)}" if kept else path
