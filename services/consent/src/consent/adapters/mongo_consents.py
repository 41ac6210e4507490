"""Consent versions (`consent_versions`, `_id` = `consent_id#version`, each inserted once) and
pair heads (`consent_heads`, `_id` = `user_key|app_id`, replaced after each durable change).

The only race, two writers of one version, is settled by the `_id` insert. Hot reads are by
`_id`. `heads_of_user` and `heads_of_app` filter an indexed field, which FerretDB evaluates by
reading the whole heads collection (one document per pair): the user view, account deletion and
terms changes use them, never the check.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from consent.domain.model import Consent, Terms
from consent.service.ports import Stored, VersionConflict
from shared.mongo import Document

VERSIONS, HEADS = "consent_versions", "consent_heads"


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


async def create_consent_indexes(db: AsyncDatabase[Document]) -> None:
    """The heads' secondary indexes (user view, deletion, terms changes)."""
    await db[HEADS].create_index([("user_key", ASCENDING)])
    await db[HEADS].create_index([("app_id", ASCENDING)])


class MongoConsents:
    """The consent store on MongoDB or FerretDB."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._versions: AsyncCollection[Document] = db[VERSIONS]
        self._heads: AsyncCollection[Document] = db[HEADS]

    async def head(self, *, user_key: str, app_id: str) -> Consent | None:
        """The pair's head, or None."""
        found = await self._heads.find_one({"_id": head_id(user_key, app_id)})
        return from_document(found) if found else None

    async def get(self, consent_id: str, version: int) -> Stored | None:
        """One version by `_id`."""
        found = await self._versions.find_one({"_id": version_id(consent_id, version)})
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
            await self._versions.insert_one(document)
        except DuplicateKeyError as exc:
            raise VersionConflict(f"{document['_id']} exists") from exc

    async def settle(self, consent: Consent) -> None:
        """Mark the version published (one writer's unconditional `$set`) and move the head."""
        await self._versions.update_one(
            {"_id": version_id(consent.consent_id, consent.version)}, {"$set": {"published": True}}
        )
        head = {"_id": head_id(consent.user_key, consent.app_id), **to_document(consent)}
        await self._heads.replace_one({"_id": head["_id"]}, head, upsert=True)

    async def heads_of_user(self, user_key: str) -> list[Consent]:
        """Every head of the user."""
        return [from_document(d) async for d in self._heads.find({"user_key": user_key})]

    async def heads_of_app(self, app_id: str) -> list[Consent]:
        """Every head of the app."""
        return [from_document(d) async for d in self._heads.find({"app_id": app_id})]
