"""`GET /oauth/consent/callback`: consent's answer comes back; a code only for the one flow it
answers, in the browser that started it, once (consent README "Hand-over" 4).

Checked in this order, and nothing is issued unless all hold: the verdict's signature, `typ`,
`iss`, `aud` and `exp` (the VerdictReader); its `state` is the flow named in the URL; the flow
exists (it is gone once claimed or swept); the verdict answers this flow's challenge for its
user with its nonce hash, and the browser's flow cookie hashes to it; the same user's session
is still live; then the flow is claimed by `delete_one` (of concurrent callbacks one wins).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from auth.domain.authorize_rules import RequestRefused, error_redirect
from auth.domain.consent_flow import Flow, Verdict, VerdictRefused, check_verdict
from auth.domain.grants import Grant
from auth.service.authorize import Authorize, ErrorPage, Outcome, Redirect
from auth.service.authorize_ports import VerdictReader

log = logging.getLogger(__name__)
MAX_TOKEN_CHARS = 8192


@dataclass
class ConsentCallback:
    """The callback's use case (shares the authorize use case's ports and settings)."""

    authorize: Authorize
    verdicts: VerdictReader

    async def answer(
        self, *, verdict: str, state: str, cookie_nonce: str | None, session_token: str
    ) -> Outcome:
        """Where the browser goes now: the app (code or access_denied) or an error page."""
        try:
            flow, read = await self._checked(
                verdict=verdict, state=state, cookie_nonce=cookie_nonce
            )
            auth_time = await self._same_user(flow, session_token=session_token)
            if not await self.authorize.flows.claim(flow.flow_id):
                raise VerdictRefused(409, "this consent answer was already used")
        except VerdictRefused as exc:
            log.info("consent answer refused: %s", exc, extra={"status": exc.status})
            # The flow cookie is cleared only once the flow is gone or over: a forged or
            # misdirected request must not end the real flow of the browser it was sent to.
            return ErrorPage(exc.status, str(exc), end_flow=exc.status in (409, 410))
        except Exception:
            log.exception("consent answer not processed")
            return ErrorPage(503, "this sign-in cannot be finished just now; try again")
        request = flow.request
        if not read.allowed:
            denied = RequestRefused(
                "access_denied", "the user did not allow it", state=request.state
            )
            location = error_redirect(request.redirect_uri, denied, issuer=self.issuer)
            return Redirect(location, end_flow=True)
        grant = _grant(flow, read, auth_time=auth_time)
        return Redirect(await self.authorize.issue(request, grant=grant), end_flow=True)

    @property
    def issuer(self) -> str:
        """Auth's issuer (`iss` of the responses)."""
        return self.authorize.issuer

    async def _checked(
        self, *, verdict: str, state: str, cookie_nonce: str | None
    ) -> tuple[Flow, Verdict]:
        if not verdict or not state or len(verdict) > MAX_TOKEN_CHARS or len(state) > 200:
            raise VerdictRefused(400, "this consent answer is incomplete or malformed")
        read = await self.verdicts.read(verdict)
        if read.state != state:
            raise VerdictRefused(400, "this consent answer is not for this request")
        flow = await self.authorize.flows.get(state)
        if flow is None:
            raise VerdictRefused(410, "this sign-in was already finished or has expired")
        check_verdict(read, flow=flow, cookie_nonce=cookie_nonce, now=self.authorize.clock())
        return flow, read

    async def _same_user(self, flow: Flow, *, session_token: str) -> int:
        """The live session's login time (OIDC `auth_time`), if it is the flow's user's."""
        session = await self.authorize.sessions.resolve(session_token)
        if session is None or session.user_key != flow.user_key:
            raise VerdictRefused(403, "you are no longer logged in as the user who started this")
        return int(session.created_at)


def _grant(flow: Flow, verdict: Verdict, *, auth_time: int) -> Grant:
    return Grant(
        client_id=flow.request.client_id,
        user_key=flow.user_key,
        pairwise_subject=flow.pairwise_subject,
        scopes=flow.request.scopes,
        consent_id=verdict.consent_id or "",
        consent_version=verdict.consent_version or 0,
        terms_version=verdict.terms_version or "",
        purpose=flow.purpose,
        auth_time=auth_time,
        nonce=flow.request.nonce,
    )
