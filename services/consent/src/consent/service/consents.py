"""Grant, revoke, renew and invalidate: each change one version, written once, then published.

A change reads the pair's latest version (the head, then forward by `_id`), computes the next
version with the domain rules, and inserts it: of two concurrent writers of one version exactly
one wins, the other reads again and reapplies its change (so 32 concurrent changes give one
linear history). The winner publishes the version's event and only then marks it published and
moves the head; the call returns after the broker acknowledged the event. A version whose
publish failed (the caller got a 503) is published by the next change of that pair before it
goes on, and until then the check refuses that pair (fail closed).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from consent.domain.model import (
    Consent,
    ConsentError,
    RevokeReason,
    TermsChanged,
    check_request,
    first_consent_id,
    grant,
    invalidate,
    next_consent_id,
    revoke,
)
from consent.service.ports import (
    AppStore,
    ConsentEvents,
    ConsentStore,
    DeletionRequester,
    Stored,
    VersionConflict,
)
from consent.service.wire import to_event

MAX_TRIES = 200  # 32 writers of one pair: the unluckiest loses at most 31 rounds


class NotFound(ConsentError):
    """No such consent for this user (unknown, or someone else's: the same answer)."""


class UnknownApp(ConsentError):
    """No registration of this app was seen."""


class InFlight(Exception):
    """Another writer's version is between its insert and its publish: wait, then read again."""


class Contended(RuntimeError):
    """A change lost every round against concurrent writers (a 503: try again)."""


def now_ms() -> datetime:
    """The current UTC time at the database's precision (milliseconds)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


Make = Callable[[Consent | None, datetime], Consent | None]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The pair's latest version after a change, and whether this call made it."""

    consent: Consent | None
    changed: bool


@dataclass
class Consents:
    """The consent records' use cases (built once, in bootstrap)."""

    store: ConsentStore
    apps: AppStore
    events: ConsentEvents
    deletions: DeletionRequester
    source: str
    in_flight_s: float = 6.0  # an unpublished version younger than this is another writer's
    clock: Callable[[], datetime] = now_ms

    async def grant(
        self,
        *,
        user_key: str,
        app_id: str,
        scopes: tuple[str, ...],
        purpose: str,
        pairwise_subject: str,
        terms_version: str | None = None,
    ) -> Outcome:
        """Record that the user agreed (the consent screen calls this): new or renewed."""
        app = await self.apps.get(app_id)
        if app is None:
            raise UnknownApp(f"no app {app_id}")
        check_request(scopes=scopes, allowed=app.allowed_scopes)
        if terms_version is not None and terms_version != app.terms.version:
            raise TermsChanged(f"the app's terms are now {app.terms.version}, not {terms_version}")

        def make(current: Consent | None, at: datetime) -> Consent | None:
            return grant(
                current,
                user_key=user_key,
                app_id=app_id,
                scopes=scopes,
                purpose=purpose,
                terms=app.terms,
                pairwise_subject=pairwise_subject,
                at=at,
            )

        return await self._change(user_key=user_key, app_id=app_id, make=make)

    async def revoke(
        self, *, user_key: str, consent_id: str, reason: RevokeReason = "user"
    ) -> Consent:
        """Revoke one of the user's consents (one effect), then ask the app to delete."""
        first = await self.store.get(consent_id, 1)
        if first is None or first.consent.user_key != user_key:
            raise NotFound(f"no consent {consent_id} of this user")
        app_id = first.consent.app_id

        def make(current: Consent | None, at: datetime) -> Consent | None:
            if current is None or current.consent_id != consent_id:
                return None  # a later consent of the pair exists, so this one is revoked
            return revoke(current, reason=reason, at=at)

        await self._change(user_key=user_key, app_id=app_id, make=make)
        revoked = await self.latest_of(consent_id)
        await self._request_deletion(revoked, reason=reason)
        return revoked

    async def revoke_all(self, *, user_key: str, reason: RevokeReason = "user") -> list[Consent]:
        """Revoke every consent of the user; each revoked one gets its deletion request."""
        done = []
        for head in await self.store.heads_of_user(user_key):
            current = await self.latest(user_key=user_key, app_id=head.app_id)
            if current is not None:
                done.append(
                    await self.revoke(
                        user_key=user_key, consent_id=current.consent_id, reason=reason
                    )
                )
        return done

    async def invalidate_app(self, *, app_id: str, new_terms_version: str) -> int:
        """An app changed its terms: invalidate each active consent under others; how many."""
        count = 0
        for head in await self.store.heads_of_app(app_id):

            def make(current: Consent | None, at: datetime) -> Consent | None:
                return (
                    invalidate(current, new_terms_version=new_terms_version, at=at)
                    if current
                    else None
                )

            count += (await self._change(user_key=head.user_key, app_id=app_id, make=make)).changed
        return count

    async def latest(self, *, user_key: str, app_id: str) -> Consent | None:
        """The pair's latest durable version (a version whose publish failed is published
        first; one being published by another writer is waited for)."""
        for _ in range(MAX_TRIES):
            try:
                return await self._latest(user_key=user_key, app_id=app_id)
            except InFlight:
                await asyncio.sleep(0.005)
        raise Contended(f"consent of {app_id} stayed in flight")

    async def _latest(self, *, user_key: str, app_id: str) -> Consent | None:
        stored = await self._walk(user_key=user_key, app_id=app_id)
        return stored.consent if stored else None

    async def latest_of(self, consent_id: str) -> Consent:
        """The latest version of one consent (NotFound if it has none)."""
        first = await self.store.get(consent_id, 1)
        if first is None:
            raise NotFound(f"no consent {consent_id}")
        latest = first
        while (later := await self.store.get(consent_id, latest.consent.version + 1)) is not None:
            latest = later
        return latest.consent

    async def history(self, *, user_key: str, consent_id: str) -> list[Consent]:
        """Every version of one of the user's consents, oldest first."""
        first = await self.store.get(consent_id, 1)
        if first is None or first.consent.user_key != user_key:
            raise NotFound(f"no consent {consent_id} of this user")
        versions = [first.consent]
        while (later := await self.store.get(consent_id, len(versions) + 1)) is not None:
            versions.append(later.consent)
        return versions

    async def of_user(self, user_key: str) -> list[Consent]:
        """Every consent of the user (each pair's consents, the revoked earlier ones too)."""
        found: list[Consent] = []
        for head in await self.store.heads_of_user(user_key):
            consent_id = first_consent_id(user_key=user_key, app_id=head.app_id)
            while True:
                consent = await self.latest_of(consent_id)
                found.append(consent)
                if (
                    consent.status != "revoked"
                    or await self.store.get(next_consent_id(consent_id), 1) is None
                ):
                    break
                consent_id = next_consent_id(consent_id)
        return found

    async def _change(self, *, user_key: str, app_id: str, make: Make) -> Outcome:
        for attempt in range(MAX_TRIES):
            try:
                current = await self._latest(user_key=user_key, app_id=app_id)
            except InFlight:
                await asyncio.sleep(0.002)
                continue
            following = make(current, self.clock())
            if following is None:
                return Outcome(consent=current, changed=False)
            event = to_event(following, source=self.source).to_bytes()
            try:
                await self.store.insert(following, event=event)
            except VersionConflict:
                await asyncio.sleep(random.uniform(0, 0.002 * min(attempt, 10)))
                continue
            await self._publish(Stored(consent=following, event=event, published=False))
            return Outcome(consent=following, changed=True)
        raise Contended(f"consent of {app_id} changed concurrently {MAX_TRIES} times")

    async def _publish(self, stored: Stored) -> None:
        await self.events.publish(key=stored.consent.user_key, value=stored.event)
        await self.store.settle(stored.consent)

    async def _walk(self, *, user_key: str, app_id: str) -> Stored | None:
        """Head, then forward by `_id`; publishes (settles) what it passes that is not yet."""
        head = await self.store.head(user_key=user_key, app_id=app_id)
        consent_id = head.consent_id if head else first_consent_id(user_key=user_key, app_id=app_id)
        version = head.version if head else 0
        latest = Stored(consent=head, event=b"", published=True) if head else None
        moved = False
        while True:
            later = await self.store.get(consent_id, version + 1)
            if later is None and latest is not None and latest.consent.status == "revoked":
                consent_id, version = next_consent_id(consent_id), 0
                later = await self.store.get(consent_id, 1)
            if later is None:
                break
            if not later.published:
                age = (self.clock() - later.consent.changed_at).total_seconds()
                if age < self.in_flight_s:
                    raise InFlight(f"{consent_id} v{later.consent.version} is being published")
                await self._publish(later)  # its writer failed to publish it (it got a 503)
            latest, version, moved = later, later.consent.version, True
        if moved and latest is not None:
            await self.store.settle(latest.consent)
        return latest

    async def _request_deletion(self, revoked: Consent, *, reason: str) -> None:
        await self.deletions.request(
            app_id=revoked.app_id,
            user_key=revoked.user_key,
            consent_id=revoked.consent_id,
            consent_version=revoked.version,
            pairwise_subject=revoked.pairwise_subject,
            reason=reason,
        )
