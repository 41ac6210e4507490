"""The apps read model: one document per app (`apps`, `_id` = app id), replaced by its one
writer, the auth-events consumer (auth keys app events by app id: one partition, in order)."""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from consent.domain.apps import App
from consent.domain.model import Terms
from shared.mongo import Document, find_id

APPS = "apps"


class MongoApps:
    """Apps as consent knows them."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._apps: AsyncCollection[Document] = db[APPS]

    async def get(self, app_id: str) -> App | None:
        """The app by `_id`, or None."""
        d = await find_id(self._apps, app_id)
        if d is None:
            return None
        return App(
            app_id=d["_id"],
            name=d["name"],
            allowed_scopes=tuple(d["allowed_scopes"]),
            terms=Terms(d["terms_version"], tuple(d["recipients"]), int(d["retention_days"])),
            terms_url=d["terms_url"],
            deletion_webhook_url=d.get("deletion_webhook_url"),
            applied=tuple(d.get("applied", ())),
        )

    async def save(self, app: App) -> None:
        """Replace the app's document."""
        document: Document = {
            "_id": app.app_id,
            "name": app.name,
            "allowed_scopes": list(app.allowed_scopes),
            "terms_version": app.terms.version,
            "recipients": list(app.terms.recipients),
            "retention_days": app.terms.retention_days,
            "terms_url": app.terms_url,
            "deletion_webhook_url": app.deletion_webhook_url,
            "applied": list(app.applied),
        }
        await self._apps.replace_one({"_id": app.app_id}, document, upsert=True)

    async def deletion_webhook_url(self, app_id: str) -> str | None:
        """Where the app takes deletion requests (its latest registration or update), or None."""
        app = await self.get(app_id)
        return app.deletion_webhook_url if app else None
