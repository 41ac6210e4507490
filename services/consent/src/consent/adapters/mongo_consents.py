"""Consent versions (`consent_versions_NN`, `_id` = `consent_id#version`, each inserted once)
and pair heads (`consent_heads_NN`, `_id` = `user_key|app_id`, replaced after each durable
change), each kind split over `shards` collections by a CRC-32 of the consent id or pair key.

The only race, two writers of one version, is settled by the `_id` insert. Hot reads are by
`_id`, and split because FerretDB's cost of an `_id` find grows with its collection (measured
here: 1.9 ms at 100 documents, 10 ms at 5,000): 64 shards keep each small. `heads_of_user`
and `heads_of_app` filter a field in every heads shard (FerretDB reads each whole): the user
view, account deletion and terms changes use them, never the check. The shard count is fixed
for a deployment's life (a change would need the collections rebuilt, e.g. by a replay).
"""

from __future__ import annotations

import asyncio
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from consent.domain.model import Consent, Terms
from consent.service.ports import Stored, VersionConflict
from shared.mongo import Document, Shards, find_id, shard_names

VERSIONS, HEADS = "consent_versions", "consent_heads"
SHARDS = 64


def version_id(consent_id: str, version: int) -> str:
    """The `_id` of one version."""
    return f"{consent_id}#{version}"


def head_id(user_key: str, app_id: str) -> str:
    """The `_id` of a pair's head (neither part may hold `|`: identifiers do not)."""
    return f"{user_key}|{app_id}"


def to_document(c: Consent) -> Document:
    """A version's fields, as stored (the same in versions and heads, and after replay)."""
    return {
        "consent_id": c.consent_id,
        "user_key": c.user_key,
        "app_id": c.app_id,
        "version": c.version,
        "status": c.status,
        "change": c.change,
        "scopes": list(c.scopes),
        "purpose": c.purpose,
        "terms_version": c.terms.version,
        "recipients": list(c.terms.recipients),
        "retention_days": c.terms.retention_days,
        "pairwise_subject": c.pairwise_subject,
        "granted_at": c.granted_at,
        "changed_at": c.changed_at,
        "reason": c.reason,
    }


def from_document(d: Document) -> Consent:
    """The version a stored document holds."""
    return Consent(
        consent_id=d["consent_id"],
        user_key=d["user_key"],
        app_id=d["app_id"],
        version=int(d["version"]),
        status=d["status"],
        change=d["change"],
        scopes=tuple(d["scopes"]),
        purpose=d["purpose"],
        terms=Terms(d["terms_version"], tuple(d["recipients"]), int(d["retention_days"])),
        pairwise_subject=d["pairwise_subject"],
        granted_at=d["granted_at"],
        changed_at=d["changed_at"],
        reason=d["reason"],
    )


async def create_consent_indexes(db: AsyncDatabase[Document], *, shards: int = SHARDS) -> None:
    """The heads' secondary indexes (user view, deletion, terms changes; used by MongoDB)."""
    await asyncio.gather(
        *(
            db[name].create_index([(field, ASCENDING)])
            for name in shard_names(HEADS, shards=shards)
            for field in ("user_key", "app_id")
        )
    )


class MongoConsents:
    """The consent store on MongoDB or FerretDB."""

    def __init__(self, db: AsyncDatabase[Document], *, shards: int = SHARDS) -> None:
        # Built once: a collection object per request was a few per cent of the check's CPU.
        self._by_kind = {k: Shards(db, k, shards=shards) for k in (VERSIONS, HEADS)}

    def _versions(self, consent_id: str) -> AsyncCollection[Document]:
        return self._by_kind[VERSIONS].of(consent_id)

    def _heads(self, key: str) -> AsyncCollection[Document]:
        return self._by_kind[HEADS].of(key)

    async def head(self, *, user_key: str, app_id: str) -> Consent | None:
        """The pair's head, or None."""
        key = head_id(user_key, app_id)
        found = await find_id(self._heads(key), key)
        return from_document(found) if found else None

    async def get(self, consent_id: str, version: int) -> Stored | None:
        """One version by `_id`."""
        found = await find_id(self._versions(consent_id), version_id(consent_id, version))
        if found is None:
            return None
        return Stored(
            consent=from_document(found), event=bytes(found["event"]), published=found["published"]
        )

    async def insert(self, consent: Consent, *, event: bytes) -> None:
        """Insert the version (unpublished); VersionConflict if another writer has it."""
        document: dict[str, Any] = {
            "_id": version_id(consent.consent_id, consent.version),
            **to_document(consent),
            "event": event,
            "published": False,
        }
        try:
            await self._versions(consent.consent_id).insert_one(document)
        except DuplicateKeyError as exc:
            raise VersionConflict(f"{document['_id']} exists") from exc

    async def settle(self, consent: Consent) -> None:
        """Mark the version published (one writer's unconditional `$set`) and move the head."""
        await self._versions(consent.consent_id).update_one(
            {"_id": version_id(consent.consent_id, consent.version)}, {"$set": {"published": True}}
        )
        key = head_id(consent.user_key, consent.app_id)
        await self._heads(key).replace_one(
            {"_id": key}, {"_id": key, **to_document(consent)}, upsert=True
        )

    async def heads_of_user(self, user_key: str) -> list[Consent]:
        """Every head of the user."""
        return [from_document(d) for d in await self.every(HEADS, {"user_key": user_key})]

    async def heads_of_app(self, app_id: str) -> list[Consent]:
        """Every head of the app."""
        return [from_document(d) for d in await self.every(HEADS, {"app_id": app_id})]

    async def every(self, kind: str, where: Document | None = None) -> list[Document]:
        """The documents of every shard of `kind` that match (all shards read at once)."""
        return await self._by_kind[kind].find(where)
