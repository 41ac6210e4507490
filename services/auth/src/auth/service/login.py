"""Phone login: send a code, check a guess, find or create the user, start a session.

Both steps answer the same whether the number has an account: a code is sent to any valid
number (a first login signs the user up), and the lookup is read only after the code is proven.
Every limit is a slot taken by a unique insert (`Slots`), never a counter.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from auth.domain.identity import LookupKeys, keyed, new_user_key
from auth.domain.limits import RateLimited, Window
from auth.domain.otp import Challenge, LoginFailed, new_code, well_formed
from auth.service.phones import to_e164
from auth.service.ports import (
    ChallengeStore,
    EventPublisher,
    Lookup,
    LookupStore,
    Slots,
    SmsSender,
    UserStore,
)
from auth.service.sessions import NewSession, Sessions
from shared.events import auth, make_event

MAX_CODE_CHARS = 32


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """The windows of each limit (see `AuthSettings.*_limits_*`)."""

    number: tuple[Window, ...]
    address: tuple[Window, ...]
    failures: tuple[Window, ...]


@dataclass(frozen=True, slots=True)
class CodeSent:
    """What start answers, the same for every valid number."""

    challenge: str  # the handle the code form sends back (a keyed hash, not the number)
    expires_in: int


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A proven number: the user it leads to and the new session."""

    user_key: str
    signed_up: bool
    session: NewSession


@dataclass
class PhoneLogin:
    """The two steps of phone login, with the ports they need (built once, in bootstrap)."""

    challenges: ChallengeStore
    lookups: LookupStore
    users: UserStore
    slots: Slots
    sms: SmsSender
    publisher: EventPublisher
    sessions: Sessions
    lookup_keys: LookupKeys
    otp_key: bytes
    limits: LoginLimits
    ttl_s: int
    max_attempts: int
    source: str
    clock: Callable[[], float] = time.time

    def challenge_of(self, phone: str) -> str:
        """The challenge handle of a typed number (InvalidPhone if it is not one)."""
        return keyed(self.otp_key, purpose="challenge", value=to_e164(phone))

    async def start(self, *, phone: str, client: str) -> CodeSent:
        """Send a code to the number (InvalidPhone, RateLimited, or SmsFailed)."""
        e164 = to_e164(phone)
        challenge_id = keyed(self.otp_key, purpose="challenge", value=e164)
        now = self.clock()
        address = keyed(self.otp_key, purpose="address", value=client)
        await self._take(f"sn:{challenge_id}", self.limits.number, now=now)
        await self._take(f"sa:{address}", self.limits.address, now=now)
        code, serial = new_code(), secrets.token_hex(16)
        await self.challenges.put(
            Challenge(
                challenge_id=challenge_id,
                serial=serial,
                code_hash=self._code_hash(serial=serial, code=code),
                created_at=now,
                expires_at=now + self.ttl_s,
                max_attempts=self.max_attempts,
                lookups=tuple(self.lookup_keys.ids(e164=e164)),
            )
        )
        minutes = max(1, self.ttl_s // 60)
        body = f"Your Kits login code is {code}. It expires in {minutes} minutes. Never share it."
        await self.sms.send(to=e164, body=body)
        return CodeSent(challenge=challenge_id, expires_in=self.ttl_s)

    async def verify(self, *, challenge: str, code: str) -> LoggedIn:
        """Check a guess (LoginFailed or RateLimited); on the right code, log in once.

        Every failed guess takes a slot of the number's failure windows (a unique insert);
        once they are full the answer is 429. A guess is evaluated only after it took one of
        the code's attempt slots, so at most `max_attempts` are ever evaluated per code.
        """
        now = self.clock()
        failures = f"vf:{challenge}"
        for window in self.limits.failures:
            key = f"{failures}:{window.seconds}:{window.bucket(now)}"
            if self.slots.known_full(key=key, limit=window.limit):
                raise RateLimited(retry_after_s=window.retry_after(now))
        try:
            return await self._verify(challenge=challenge, code=code, now=now)
        except LoginFailed:
            await self._take(failures, self.limits.failures, now=now)
            raise

    async def _verify(self, *, challenge: str, code: str, now: float) -> LoggedIn:
        found = await self.challenges.get(challenge) if len(challenge) == 64 else None
        if found is None or found.expired(now):
            raise LoginFailed()
        attempt = await self.slots.take(
            key=f"at:{found.challenge_id}:{found.serial}",
            limit=found.max_attempts,
            expires_at=found.expires_at,
        )
        if not attempt or not well_formed(code[:MAX_CODE_CHARS]):
            raise LoginFailed()
        if not found.matches(self._code_hash(serial=found.serial, code=code)):
            raise LoginFailed()
        # The claim and the read of the current lookup overlap (the read changes nothing).
        claimed, current = await asyncio.gather(
            self.challenges.claim(found), self.lookups.get(found.lookups[0][1])
        )
        if not claimed:
            raise LoginFailed()  # a concurrent right answer won: this code logs in once
        return await self._log_in(challenge=found, current=current)

    async def _log_in(self, *, challenge: Challenge, current: Lookup | None) -> LoggedIn:
        if current is not None:
            user_key, signed_up = current.user_key, False
        else:
            user_key, signed_up = await self._user_of(challenge.lookups)
        session = self.sessions.new(user_key=user_key)
        data: auth.UserSignedUp | auth.UserLoggedIn
        if signed_up:
            data = auth.UserSignedUp(user_key=user_key, hash_key_id=challenge.lookups[0][0])
        else:
            data = auth.UserLoggedIn(user_key=user_key, session_id=session.session.session_id)
        # The session is stored while the event is acknowledged; the cookie is only handed out
        # once both are done, and a session whose event failed is removed at once.
        outcomes: list[object] = await asyncio.gather(
            self.sessions.store.add(session.session),
            self.publisher.publish(make_event(data, source=self.source)),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                await self.sessions.end(session.token)
                raise outcome
        return LoggedIn(user_key=user_key, signed_up=signed_up, session=session)

    async def _user_of(self, lookups: tuple[tuple[str, str], ...]) -> tuple[str, bool]:
        """The user the proven number leads to (re-keyed under the current key), or a new one
        (the current key's lookup was just read and is not there)."""
        current_key, current_id = lookups[0]
        for key_id, lookup_id in lookups[1:]:
            found = await self.lookups.get(lookup_id)
            if found is None:
                continue
            if key_id != current_key:
                # Rotation: write the lookup under the current key first, then drop the old
                # one, so a crash in between leaves two lookups to one user, never none.
                await self.lookups.add(
                    Lookup(lookup_id=current_id, key_id=current_key, user_key=found.user_key)
                )
                await self.lookups.remove(lookup_id)
            return found.user_key, False
        user_key = new_user_key()
        await self.users.add(user_key, created_at=self.clock())
        if await self.lookups.add(
            Lookup(lookup_id=current_id, key_id=current_key, user_key=user_key)
        ):
            return user_key, True
        await self.users.remove(user_key)  # another login of this number created it first
        again = await self.lookups.get(current_id)
        if again is None:
            raise LoginFailed()
        return again.user_key, False

    def _code_hash(self, *, serial: str, code: str) -> str:
        return keyed(self.otp_key, purpose="code", value=f"{serial}:{code}")

    async def _take(self, key: str, windows: tuple[Window, ...], *, now: float) -> None:
        for window in windows:
            slot_key = f"{key}:{window.seconds}:{window.bucket(now)}"
            if not await self.slots.take(
                key=slot_key, limit=window.limit, expires_at=window.ends_at(now)
            ):
                raise RateLimited(retry_after_s=window.retry_after(now))
