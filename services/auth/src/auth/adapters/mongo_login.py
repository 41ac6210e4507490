"""Mongo adapters of login: challenges, lookups, users and sessions (hot reads by `_id`).

Challenges, lookups and sessions are each split over 64 collections (`challenges_NN`,
`lookups_NN`, `sessions_NN`) by a CRC-32 of their `_id`, as consent and the OAuth records are:
FerretDB answers an `_id` find with a filter PostgreSQL cannot serve from the `_id` index (its
pushdown is `_jsonb->'_id' @> value`), so the cost of every find, and of every `delete_one`,
grows with its collection (measured: 0.64 ms at 80 documents, 1.85 ms at 5,000; a lookup per
user would make each login read every user's). The filters on other fields (an account's
deletion, the sweeps) read every shard. The shard count is fixed for a deployment's life.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from auth.domain.otp import Challenge
from auth.service.ports import Lookup, Session
from shared.mongo import Document, Shards, find_id, insert_once


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _ts(value: datetime) -> float:
    return value.timestamp()


CHALLENGES, LOOKUPS, SESSIONS = "challenges", "lookups", "sessions"


async def create_login_indexes(db: AsyncDatabase[Document]) -> None:
    """Move what a database from before the split still holds in one collection. No secondary
    index on the shards (as profiles): one on each of 128 collections cost every fresh start
    0.8 s and 128 tables on FerretDB, and the filters on `user_key` (an account's deletion) are
    rare; each shard is created by its first write."""
    await move_unsplit(db)


async def move_unsplit(db: AsyncDatabase[Document]) -> int:
    """Copy the documents of the single `challenges`, `lookups` and `sessions` collections of
    an older deployment into their shards, then drop each; how many were copied. Each copy is
    an insert once by `_id`, so a start that stopped half-way simply does it again; until it
    is done, a login of a number not yet copied would not find its account (run it before
    serving, as the start does)."""
    names = set(await db.list_collection_names())
    moved = 0
    for kind in (CHALLENGES, LOOKUPS, SESSIONS):
        if kind not in names:
            continue
        shards = Shards(db, kind)
        async for doc in db[kind].find({}):
            moved += await insert_once(shards.of(str(doc["_id"])), doc)
        await db[kind].drop()
    return moved


class MongoChallenges:
    """`challenges`: `_id` = keyed hash of the number; code kept only as a keyed hash."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._shards = Shards(db, CHALLENGES)

    async def put(self, challenge: Challenge) -> None:
        """Create or replace the number's challenge."""
        doc = {
            "_id": challenge.challenge_id,
            "serial": challenge.serial,
            "code_hash": challenge.code_hash,
            "created_at": _at(challenge.created_at),
            "expires_at": _at(challenge.expires_at),
            "max_attempts": challenge.max_attempts,
            # FerretDB v1 refuses nested arrays: pairs are stored as small documents.
            "lookups": [{"key": k, "id": i} for k, i in challenge.lookups],
        }
        c = self._shards.of(challenge.challenge_id)
        try:
            await c.replace_one({"_id": challenge.challenge_id}, doc, upsert=True)
        except DuplicateKeyError:  # two upserts of a new `_id` at once: the other inserted it
            await c.replace_one({"_id": challenge.challenge_id}, doc, upsert=True)

    async def get(self, challenge_id: str) -> Challenge | None:
        """The challenge with this id."""
        doc = await find_id(self._shards.of(challenge_id), challenge_id)
        if doc is None:
            return None
        return Challenge(
            challenge_id=doc["_id"],
            serial=doc["serial"],
            code_hash=doc["code_hash"],
            created_at=_ts(doc["created_at"]),
            expires_at=_ts(doc["expires_at"]),
            max_attempts=int(doc["max_attempts"]),
            lookups=tuple((str(p["key"]), str(p["id"])) for p in doc["lookups"]),
        )

    async def claim(self, challenge: Challenge) -> bool:
        """Delete this challenge (its serial too, so a newer code is untouched); one winner."""
        result = await self._shards.of(challenge.challenge_id).delete_one(
            {"_id": challenge.challenge_id, "serial": challenge.serial}
        )
        return result.deleted_count == 1

    async def sweep(self, *, now: float) -> int:
        """Delete expired challenges."""
        return await self._shards.delete_many({"expires_at": {"$lt": _at(now)}})


class MongoLookups:
    """`lookups`: `_id` = HMAC(lookup key, E.164), with the key id and the user key."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._shards = Shards(db, LOOKUPS)

    async def get(self, lookup_id: str) -> Lookup | None:
        """The lookup with this `_id`."""
        doc = await find_id(self._shards.of(lookup_id), lookup_id)
        if doc is None:
            return None
        return Lookup(lookup_id=doc["_id"], key_id=doc["key_id"], user_key=doc["user_key"])

    async def add(self, lookup: Lookup) -> bool:
        """Insert once."""
        return await insert_once(
            self._shards.of(lookup.lookup_id),
            {"_id": lookup.lookup_id, "key_id": lookup.key_id, "user_key": lookup.user_key},
        )

    async def remove(self, lookup_id: str) -> None:
        """Delete one lookup."""
        await self._shards.of(lookup_id).delete_one({"_id": lookup_id})

    async def remove_user(self, user_key: str) -> int:
        """Delete every lookup of a user."""
        return await self._shards.delete_many({"user_key": user_key})


class MongoUsers:
    """`users`: one document per user key (nothing about the number)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._c: AsyncCollection[Document] = db["users"]

    async def add(self, user_key: str, *, created_at: float) -> None:
        """Record a new user key (idempotent)."""
        await insert_once(self._c, {"_id": user_key, "created_at": _at(created_at)})

    async def exists(self, user_key: str) -> bool:
        """Whether the user exists."""
        return await self._c.find_one({"_id": user_key}, projection={"_id": 1}) is not None

    async def remove(self, user_key: str) -> None:
        """Forget the user key."""
        await self._c.delete_one({"_id": user_key})


class MongoSessions:
    """`sessions`: `_id` = SHA-256 of the cookie token."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._shards = Shards(db, SESSIONS)

    async def add(self, session: Session) -> None:
        """Store a new session."""
        await self._shards.of(session.session_id).insert_one(
            {
                "_id": session.session_id,
                "user_key": session.user_key,
                "created_at": _at(session.created_at),
                "expires_at": _at(session.expires_at),
            }
        )

    async def get(self, session_id: str) -> Session | None:
        """The session with this id."""
        doc = await find_id(self._shards.of(session_id), session_id)
        if doc is None:
            return None
        return Session(
            session_id=doc["_id"],
            user_key=doc["user_key"],
            created_at=_ts(doc["created_at"]),
            expires_at=_ts(doc["expires_at"]),
        )

    async def remove(self, session_id: str) -> None:
        """End one session."""
        await self._shards.of(session_id).delete_one({"_id": session_id})

    async def remove_user(self, user_key: str) -> int:
        """End every session of a user."""
        return await self._shards.delete_many({"user_key": user_key})

    async def sweep(self, *, now: float) -> int:
        """Delete expired sessions."""
        return await self._shards.delete_many({"expires_at": {"$lt": _at(now)}})
