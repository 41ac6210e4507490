"""Mongo adapters of the app registry: apps, their claims, developers' indexes and accounts.

Collections (every hot read by `_id`):
- `apps`: `MongoVersioned` documents keyed by client id (head `app_…`, versions `app_…#n`);
- `app_claims`: `app_…#n`, one unique insert per change, taken before its event is published
  and kept afterwards (a deleted claim could be taken again by a writer that read an older
  version, who would then publish an event for a change that cannot commit);
- `developer_apps`: `MongoVersioned`, one per developer, the client ids of its apps;
- `developers` (`_id` = developer id) and `developer_keys` (`_id` = SHA-256 of the API key).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from auth.adapters.mongo_versioned import MongoVersioned
from auth.domain.apps import App, Terms
from auth.service.app_ports import Developer, StoredApp
from auth.service.ports import VersionConflict
from shared.mongo import Document


async def create_app_indexes(db: AsyncDatabase[Document]) -> None:
    """The one index key rotation uses (every hot read is by `_id`)."""
    await db["developer_keys"].create_index("developer_id")


def app_body(app: App) -> dict[str, Any]:
    """The stored form of an app (lists for tuples, as BSON has no tuples)."""
    body: dict[str, Any] = _lists(asdict(app))
    return body


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_lists(item) for item in value]
    return value


def app_from_body(body: dict[str, Any]) -> App:
    """The app a stored body holds."""
    terms = body["terms"]
    return App(
        client_id=body["client_id"],
        developer_id=body["developer_id"],
        developer_name=body["developer_name"],
        name=body["name"],
        client_type=body["client_type"],
        redirect_uris=tuple(body["redirect_uris"]),
        allowed_scopes=tuple(body["allowed_scopes"]),
        terms=Terms(
            url=terms["url"],
            version=terms["version"],
            recipients=tuple(terms["recipients"]),
            retention_days=int(terms["retention_days"]),
        ),
        privacy_policy_url=body["privacy_policy_url"],
        deletion_webhook_url=body["deletion_webhook_url"],
        secret_sha256=body["secret_sha256"],
        earlier_terms_versions=tuple(body["earlier_terms_versions"]),
        created_at=float(body["created_at"]),
        updated_at=float(body["updated_at"]),
    )


class MongoApps:
    """Apps by client id: claimed, then committed, versions."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._versions = MongoVersioned(db, collection="apps")
        self._claims: AsyncCollection[Document] = db["app_claims"]

    async def load(self, client_id: str) -> StoredApp | None:
        """The latest committed version (two `_id` reads: the head, then `#n+1` is absent)."""
        found = await self._versions.load(client_id)
        if found is None:
            return None
        return StoredApp(version=found.version, app=app_from_body(found.body))

    async def claim(self, client_id: str, *, version: int, now: float) -> None:
        """Take version `version`; VersionConflict if another change holds it."""
        doc = {"_id": _vid(client_id, version), "at": datetime.fromtimestamp(now, UTC)}
        try:
            await self._claims.insert_one(doc)
        except DuplicateKeyError as exc:
            raise VersionConflict(f"{client_id} is being changed concurrently") from exc

    async def release(self, client_id: str, *, version: int) -> None:
        """Give back a claim whose change will not be committed."""
        await self._claims.delete_one({"_id": _vid(client_id, version)})

    async def clear_stale(self, client_id: str, *, version: int, older_than: float) -> bool:
        """Remove a crashed writer's claim: older than `older_than` and never committed."""
        claim = await self._claims.find_one({"_id": _vid(client_id, version)})
        if claim is None or claim["at"].timestamp() >= older_than:
            return False
        current = await self._versions.load(client_id)
        if current is not None and current.version >= version:
            return False  # committed: the claim is a record, not a blockage
        result = await self._claims.delete_one({"_id": claim["_id"], "at": claim["at"]})
        return result.deleted_count == 1

    async def commit(self, app: App, *, version: int) -> None:
        """Write the claimed version (the readers' view changes here)."""
        await self._versions.save(app.client_id, version=version, body=app_body(app))


class MongoAppIndex:
    """`developer_apps`: each developer's client ids, versioned."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._versions = MongoVersioned(db, collection="developer_apps")

    async def load(self, developer_id: str) -> tuple[int, tuple[str, ...]]:
        """The index's version (0 before the first app) and its client ids."""
        found = await self._versions.load(developer_id)
        if found is None:
            return 0, ()
        return found.version, tuple(found.body["client_ids"])

    async def save(self, developer_id: str, *, version: int, client_ids: tuple[str, ...]) -> None:
        """Write the next version; VersionConflict if another writer took it."""
        await self._versions.save(
            developer_id, version=version, body={"client_ids": list(client_ids)}
        )


class MongoDevelopers:
    """`developers` and `developer_keys` (the key's SHA-256 is the `_id`: one read per request)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._accounts: AsyncCollection[Document] = db["developers"]
        self._keys: AsyncCollection[Document] = db["developer_keys"]

    async def add(self, developer: Developer, *, key_sha256: str, now: float) -> None:
        """Create the account, then its first key."""
        at = datetime.fromtimestamp(now, UTC)
        await self._accounts.insert_one(
            {"_id": developer.developer_id, "name": developer.name, "created_at": at}
        )
        await self._add_key(developer, key_sha256=key_sha256, at=at)

    async def get(self, developer_id: str) -> Developer | None:
        """The account, if it exists."""
        doc = await self._accounts.find_one({"_id": developer_id})
        return Developer(developer_id=doc["_id"], name=doc["name"]) if doc else None

    async def by_key(self, key_sha256: str) -> Developer | None:
        """The account of this key hash (the name is copied in, so one read suffices)."""
        doc = await self._keys.find_one({"_id": key_sha256})
        return Developer(developer_id=doc["developer_id"], name=doc["name"]) if doc else None

    async def replace_key(self, developer_id: str, *, key_sha256: str, now: float) -> None:
        """Add the new key, then delete every other key of the account."""
        developer = await self.get(developer_id)
        if developer is None:
            return
        await self._add_key(developer, key_sha256=key_sha256, at=datetime.fromtimestamp(now, UTC))
        await self._keys.delete_many({"developer_id": developer_id, "_id": {"$ne": key_sha256}})

    async def _add_key(self, developer: Developer, *, key_sha256: str, at: datetime) -> None:
        await self._keys.insert_one(
            {
                "_id": key_sha256,
                "developer_id": developer.developer_id,
                "name": developer.name,
                "created_at": at,
            }
        )


def _vid(client_id: str, version: int) -> str:
    return f"{client_id}#{version}"
