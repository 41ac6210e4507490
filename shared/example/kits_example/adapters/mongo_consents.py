"""Revoked consents in MongoDB: one document per consent, `_id` = the consent id.

The first revocation of a consent wins by a unique insert (FerretDB has no atomic conditional
update), so a redelivered or republished event collides by itself: no "processed events" table.
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from kits_example.domain.model import Revocation
from shared.mongo import Document, insert_once

REVOKED_CONSENTS = "revoked_consents"


class MongoRevokedConsents:
    """The `RevokedConsents` port on MongoDB or FerretDB."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._revoked = db[REVOKED_CONSENTS]

    async def add(self, revocation: Revocation) -> bool:
        """Insert once per consent id; False when it was already there."""
        return await insert_once(
            self._revoked,
            {
                "_id": revocation.consent_id,
                "version": revocation.version,
                "user_key": revocation.user_key,
                "app_id": revocation.app_id,
                "event_id": revocation.event_id,
                "revoked_at": revocation.revoked_at,
            },
        )

    async def get(self, consent_id: str) -> Revocation | None:
        """The revocation, or None."""
        found = await self._revoked.find_one({"_id": consent_id})
        if found is None:
            return None
        return Revocation(
            consent_id=found["_id"],
            version=found["version"],
            user_key=found["user_key"],
            app_id=found["app_id"],
            event_id=found["event_id"],
            revoked_at=found["revoked_at"],
        )
