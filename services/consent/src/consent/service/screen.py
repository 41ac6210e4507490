"""The consent screen's two steps: show what a verified challenge asks, then record the answer.

Both steps verify the challenge again (signature, expiry, the browser's nonce); the answer
first claims the challenge by a unique insert, so a challenge is answered once whatever the
number of tabs or replays, and only then records the grant. Nothing is recorded for a deny.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from consent.domain.handover import Challenge, Decision, HandoverRefused
from consent.service.screen_ports import (
    AnsweredChallenges,
    AppDirectory,
    AppView,
    ChallengeSource,
    GrantRecorder,
    Signer,
)
from shared.scopes import SCOPES


@dataclass(frozen=True, slots=True)
class ScreenView:
    """What the page shows."""

    challenge: Challenge
    app: AppView
    scopes: tuple[tuple[str, str], ...]  # (name, plain words)


@dataclass(frozen=True, slots=True)
class Answered:
    """Where the browser goes next, and the receipt of an allow."""

    redirect_to: str
    receipt: str | None


@dataclass
class ConsentScreen:
    """The screen's use cases, with their ports (built once, in bootstrap)."""

    challenges: ChallengeSource
    apps: AppDirectory
    grants: GrantRecorder
    answered: AnsweredChallenges
    signer: Signer
    allowed_returns: frozenset[str]
    jurisdiction: str
    clock: Callable[[], float] = time.time

    async def open(self, *, token: str, nonce: str | None) -> ScreenView:
        """The verified request, ready to show (HandoverRefused says why it cannot be)."""
        challenge = await self.challenges.read(token)
        challenge.check(now=self.clock(), allowed_returns=self.allowed_returns)
        challenge.bound_to(nonce)
        if await self.answered.answered(challenge.challenge_id):
            raise HandoverRefused("reused", "this consent request was already answered")
        app = await self.apps.app(challenge.app_id)
        if app is None:
            raise HandoverRefused("unknown-app", "the app asking is not registered (yet)")
        if not set(challenge.scopes) <= set(app.allowed_scopes):
            raise HandoverRefused("malformed", "the app asks for scopes it was not registered for")
        described = tuple(
            (s, SCOPES[s].description if s in SCOPES else s) for s in challenge.scopes
        )
        return ScreenView(challenge=challenge, app=app, scopes=described)

    async def answer(self, *, token: str, nonce: str | None, allow: bool) -> Answered:
        """Record the answer once and send the browser back to auth with a signed verdict."""
        view = await self.open(token=token, nonce=nonce)
        c = view.challenge
        if not await self.answered.claim(c.challenge_id, expires_at=c.expires_at):
            raise HandoverRefused("reused", "this consent request was already answered")
        signed_receipt = None
        decision = Decision(challenge=c, allowed=False)
        if allow:
            granted = await self.grants.grant(challenge=c, app=view.app)
            decision = Decision(
                challenge=c,
                allowed=True,
                consent_id=granted.consent_id,
                consent_version=granted.version,
                terms_version=granted.terms_version,
            )
            signed_receipt = granted.receipt
        verdict = self.signer.verdict(decision, audience=c.issuer)
        query = urlencode({"verdict": verdict, "state": c.state})
        separator = "&" if "?" in c.return_to else "?"
        return Answered(redirect_to=f"{c.return_to}{separator}{query}", receipt=signed_receipt)
