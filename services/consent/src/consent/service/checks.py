"""The check: does an active consent cover these scopes for this user and app, now?

The hot path of auth and sound: the app (from `FreshApps`: its document at most
`CONSENT_APP_FRESH_S` old, current in the process that saved it), the pair's head by `_id`,
then the next version after the head (by `_id`: usually none). The head may lag a
concurrent writer by a version, which the forward read finds; a version still being published
(or whose publish failed) refuses, so the check never allows more than the log says.
"""

from __future__ import annotations

from dataclasses import dataclass

from consent.domain.model import Consent, Verdict, decide, first_consent_id, next_consent_id
from consent.service.ports import AppStore, ConsentStore


@dataclass(frozen=True)
class Checks:
    """Answers the check from the store, read-only."""

    store: ConsentStore
    apps: AppStore

    async def check(self, *, user_key: str, app_id: str, scopes: tuple[str, ...]) -> Verdict:
        """The verdict for this user, app and scopes at the app's current terms."""
        app = await self.apps.get(app_id)  # remembered: usually no read at all
        head = await self.store.head(user_key=user_key, app_id=app_id)
        pending, latest = await self._forward(head, user_key=user_key, app_id=app_id)
        if pending:
            return Verdict(allowed=False, reason="change_in_progress")
        return decide(latest, scopes=scopes, current_terms=app.terms.version if app else None)

    async def _forward(
        self, head: Consent | None, *, user_key: str, app_id: str
    ) -> tuple[bool, Consent | None]:
        """(a version is not yet published, the latest published version)."""
        consent_id = head.consent_id if head else first_consent_id(user_key=user_key, app_id=app_id)
        latest, version = head, head.version if head else 0
        while True:
            later = await self.store.get(consent_id, version + 1)
            if later is None and latest is not None and latest.status == "revoked":
                consent_id, version = next_consent_id(consent_id), 0
                later = await self.store.get(consent_id, 1)
            if later is None:
                return False, latest
            if not later.published:
                return True, latest
            latest, version = later.consent, later.consent.version
