"""Mongo adapters of the OAuth server's token side: codes, families, refresh tokens.

Every hot read is an `_id` find, and FerretDB serves even those by scanning the collection
(SERVERS.md), so each kind is split over `shards` collections by a CRC-32 of its key (as
consent shards its records). Races are settled by unique inserts: a code's one redemption is
the insert of its family (`_id` chosen when the code was issued), a refresh token's one use is
the insert of its hash into `oauth_refresh_used_*`. Revocation is a plain `$set` of
`revoked_at` (monotone: nothing ever un-revokes, so no compare-and-set is involved). Expiry is
done in code, and the sweeps delete what has expired (no TTL indexes on FerretDB).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import time
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid

from auth.domain.grants import Grant
from auth.service.token_ports import (
    Family,
    FamilyExists,
    StoredCode,
    StoredRefresh,
    TokenUsed,
)
from shared.mongo import Document, find_id, insert_once, shard_name

SHARDS = 64
CODES, FAMILIES, REFRESH, USED, BY_CONSENT, REVOCATIONS = (
    "oauth_codes",
    "oauth_families",
    "oauth_refresh",
    "oauth_refresh_used",
    "oauth_consent_families",
    "oauth_revocations",
)
KINDS = (CODES, FAMILIES, REFRESH, USED, BY_CONSENT, REVOCATIONS)
REVOCATION_KEPT_S = 31 * 86_400  # longer than any family lives
CODE_KEPT_S = 600  # a replayed code is still recognised (and revokes) this long after expiry


def consent_key(*, user_key: str, app_id: str, consent_id: str) -> str:
    """One key for (user, app, consent), the index of a consent's families."""
    joined = "\x1f".join((user_key, app_id, consent_id))
    return hashlib.sha256(joined.encode()).hexdigest()


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _grant_doc(grant: Grant) -> Document:
    doc = dataclasses.asdict(grant)
    doc["scopes"] = list(grant.scopes)
    return doc


def _grant(doc: dict[str, Any]) -> Grant:
    return Grant(**{**doc, "scopes": tuple(doc["scopes"])})


async def create_oauth_indexes(db: AsyncDatabase[Document], *, shards: int = SHARDS) -> None:
    """Every shard collection (created up front: FerretDB creates a table on a collection's
    first insert, tens of ms a request would otherwise pay), and the index of families by
    consent (read by the consent-events consumer only)."""
    present = set(await db.list_collection_names())
    for kind in KINDS:
        for n in range(shards):
            if f"{kind}_{n:02x}" not in present:
                with contextlib.suppress(CollectionInvalid):  # another instance made it
                    await db.create_collection(f"{kind}_{n:02x}")
    for n in range(shards):
        await db[f"{BY_CONSENT}_{n:02x}"].create_index("consent")


class MongoOAuthStore:
    """Codes, families and refresh tokens (the CodeStore, FamilyStore, RefreshStore ports)."""

    def __init__(self, db: AsyncDatabase[Document], *, shards: int = SHARDS) -> None:
        self._db, self._shards = db, shards

    def _c(self, kind: str, key: str) -> AsyncCollection[Document]:
        return self._db[shard_name(kind, key, shards=self._shards)]

    async def put_code(self, code: StoredCode) -> None:
        """Store a new code under its hash."""
        await self._c(CODES, code.code_hash).insert_one(
            {
                "_id": code.code_hash,
                "family_id": code.family_id,
                "redirect_uri": code.redirect_uri,
                "code_challenge": code.code_challenge,
                "grant": _grant_doc(code.grant),
                "expires_at": code.expires_at,
                "sweep_at": _at(code.expires_at + CODE_KEPT_S),
            }
        )

    async def get_code(self, code_hash: str) -> StoredCode | None:
        """The code with this hash (expired or not), or None."""
        doc = await find_id(self._c(CODES, code_hash), code_hash)
        if doc is None:
            return None
        return StoredCode(
            code_hash=code_hash,
            family_id=doc["family_id"],
            redirect_uri=doc["redirect_uri"],
            code_challenge=doc["code_challenge"],
            grant=_grant(doc["grant"]),
            expires_at=float(doc["expires_at"]),
        )

    async def create_family(self, family: Family) -> None:
        """The unique insert that is a code's single redemption; FamilyExists if taken."""
        grant = family.grant
        doc = {
            "_id": family.family_id,
            "grant": _grant_doc(grant),
            "created_at": family.created_at,
            "expires_at": family.expires_at,
            "sweep_at": _at(family.expires_at),
        }
        key = consent_key(
            user_key=grant.user_key, app_id=grant.client_id, consent_id=grant.consent_id
        )
        link = {"_id": family.family_id, "consent": key, "sweep_at": _at(family.expires_at)}
        # Both at once (a link whose family never came, from a losing redemption, is skipped
        # by the consumer and swept); if the link fails, the error stops the release, so a
        # family without its link never has tokens out.
        linked, created = await asyncio.gather(
            insert_once(self._c(BY_CONSENT, key), link),
            insert_once(self._c(FAMILIES, family.family_id), doc),
            return_exceptions=True,
        )
        for outcome in (created, linked):
            if isinstance(outcome, BaseException):
                raise outcome
        if not created:
            raise FamilyExists(family.family_id)

    async def get_family(self, family_id: str) -> Family | None:
        """The family by id, or None."""
        doc = await find_id(self._c(FAMILIES, family_id), family_id)
        if doc is None:
            return None
        return Family(
            family_id=family_id,
            grant=_grant(doc["grant"]),
            created_at=float(doc["created_at"]),
            expires_at=float(doc["expires_at"]),
            revoked="revoked_at" in doc,
        )

    async def revoke_family(self, family_id: str, *, now: float) -> None:
        """Mark the family revoked (a plain `$set`; it never goes back)."""
        await self._c(FAMILIES, family_id).update_one(
            {"_id": family_id}, {"$set": {"revoked_at": now}}
        )

    async def claim_revocation_event(self, family_id: str) -> bool:
        """Take the one publication of the family's revocation event (unique insert)."""
        doc = {"_id": family_id, "sweep_at": _at(time.time() + REVOCATION_KEPT_S)}
        return await insert_once(self._c(REVOCATIONS, family_id), doc)

    async def release_revocation_event(self, family_id: str) -> None:
        """Give the publication back after a failed publish."""
        await self._c(REVOCATIONS, family_id).delete_one({"_id": family_id})

    async def families_of_consent(
        self, *, user_key: str, app_id: str, consent_id: str
    ) -> list[str]:
        """The ids of the consent's families (one shard, filtered by its indexed key)."""
        key = consent_key(user_key=user_key, app_id=app_id, consent_id=consent_id)
        cursor = self._c(BY_CONSENT, key).find({"consent": key}, projection={"_id": 1})
        return [str(doc["_id"]) async for doc in cursor]

    async def put_refresh(self, token: StoredRefresh, *, expires_at: float) -> None:
        """Store a new refresh token under its hash."""
        await self._c(REFRESH, token.token_hash).insert_one(
            {
                "_id": token.token_hash,
                "family_id": token.family_id,
                "client_id": token.client_id,
                "scopes": list(token.scopes),
                "issued_at": token.issued_at,
                "sweep_at": _at(expires_at),
            }
        )

    async def get_refresh(self, token_hash: str) -> StoredRefresh | None:
        """The refresh token with this hash, or None."""
        doc = await find_id(self._c(REFRESH, token_hash), token_hash)
        if doc is None:
            return None
        return StoredRefresh(
            token_hash=token_hash,
            family_id=doc["family_id"],
            client_id=doc["client_id"],
            scopes=tuple(doc["scopes"]),
            issued_at=float(doc["issued_at"]),
        )

    async def claim_refresh(self, token_hash: str, *, expires_at: float) -> None:
        """Take the token's one use (unique insert); TokenUsed if another took it."""
        doc = {"_id": token_hash, "sweep_at": _at(expires_at)}
        if not await insert_once(self._c(USED, token_hash), doc):
            raise TokenUsed(token_hash)

    async def refresh_used(self, token_hash: str) -> bool:
        """Whether the token's one use was taken."""
        return await find_id(self._c(USED, token_hash), token_hash) is not None

    async def sweep(self, *, now: float) -> int:
        """Delete what has expired in every shard; how many documents went."""
        gone = 0
        for kind in KINDS:
            for n in range(self._shards):
                result = await self._db[f"{kind}_{n:02x}"].delete_many(
                    {"sweep_at": {"$lt": _at(now)}}
                )
                gone += int(result.deleted_count)
        return gone
