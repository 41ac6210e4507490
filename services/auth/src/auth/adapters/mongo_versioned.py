"""Documents that change by versions, each written once by a unique insert.

FerretDB's updates are not atomic, so a read-modify-write of one document would lose a
concurrent change. Instead version `n` of a key is its own document `key#n`, inserted once: of
two concurrent writers of `n`, exactly one wins and the other gets `VersionConflict` (and
re-reads). A head document `key` holds a copy of the latest version for a one-read load; it is
replaced after every write and may lag behind a concurrent writer, so a load also reads forward
(`key#n+1`, …) until a version is missing. Older versions keep their place in the chain but
lose their body (so an old bio or a retired redirect URI is not kept forever).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from auth.service.ports import VersionConflict
from shared.mongo import Document

KEEP_BODIES = 2  # the latest and the one before keep their bodies


@dataclass(frozen=True, slots=True)
class Versioned:
    """One version of a key's document."""

    version: int
    body: dict[str, Any]


class MongoVersioned:
    """Versioned documents of one kind in one collection."""

    def __init__(self, db: AsyncDatabase[Document], *, collection: str) -> None:
        self._docs: AsyncCollection[Document] = db[collection]

    async def load(self, key: str) -> Versioned | None:
        """The latest version of `key`, or None if it never had one or was deleted."""
        head = await self._docs.find_one({"_id": key})
        version = int(head["version"]) if head else 0
        body: dict[str, Any] | None = head["body"] if head else None
        while (later := await self._docs.find_one({"_id": _vid(key, version + 1)})) is not None:
            version, body = version + 1, later["body"]
        if body is None:
            return None
        return Versioned(version=version, body=body)

    async def save(self, key: str, *, version: int, body: dict[str, Any]) -> None:
        """Write version `version` (the loaded one + 1); VersionConflict if another writer won."""
        now = datetime.now(UTC)
        try:
            await self._docs.insert_one(
                {"_id": _vid(key, version), "key": key, "version": version, "body": body, "at": now}
            )
        except DuplicateKeyError as exc:
            raise VersionConflict(f"{key} changed concurrently; read it again") from exc
        head = {"_id": key, "key": key, "version": version, "body": body, "at": now}
        # Two writers upserting a missing head at once collide (FerretDB's upsert is
        # find-then-insert): the other's head stands; the version is written, a load reads
        # forward to it.
        with contextlib.suppress(DuplicateKeyError):
            await self._docs.replace_one({"_id": key}, head, upsert=True)
        if version > KEEP_BODIES:
            # Unconditional on one `_id`: at worst two writers both clear the same old body.
            await self._docs.update_one(
                {"_id": _vid(key, version - KEEP_BODIES)}, {"$set": {"body": {}, "pruned": True}}
            )

    async def delete(self, key: str) -> int:
        """Remove every version of `key` (and its head); how many documents went."""
        result = await self._docs.delete_many({"key": key})
        return int(result.deleted_count)


def _vid(key: str, version: int) -> str:
    return f"{key}#{version}"
