"""Mongo adapters of login: challenges, lookups, users and sessions (hot reads by `_id`)."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from auth.domain.otp import Challenge
from auth.service.ports import Lookup, Session
from shared.mongo import Document, find_id, insert_once


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _ts(value: datetime) -> float:
    return value.timestamp()


async def create_login_indexes(db: AsyncDatabase[Document]) -> None:
    """Indexes the deletion and sweeps use (every hot read is by `_id`)."""
    await db["lookups"].create_index("user_key")
    await db["sessions"].create_index("user_key")


class MongoChallenges:
    """`challenges`: `_id` = keyed hash of the number; code kept only as a keyed hash."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._c: AsyncCollection[Document] = db["challenges"]

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
        try:
            await self._c.replace_one({"_id": challenge.challenge_id}, doc, upsert=True)
        except DuplicateKeyError:  # two upserts of a new `_id` at once: the other inserted it
            await self._c.replace_one({"_id": challenge.challenge_id}, doc, upsert=True)

    async def get(self, challenge_id: str) -> Challenge | None:
        """The challenge with this id."""
        doc = await find_id(self._c, challenge_id)
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
        result = await self._c.delete_one(
            {"_id": challenge.challenge_id, "serial": challenge.serial}
        )
        return result.deleted_count == 1

    async def sweep(self, *, now: float) -> int:
        """Delete expired challenges."""
        result = await self._c.delete_many({"expires_at": {"$lt": _at(now)}})
        return int(result.deleted_count)


class MongoLookups:
    """`lookups`: `_id` = HMAC(lookup key, E.164), with the key id and the user key."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._c: AsyncCollection[Document] = db["lookups"]

    async def get(self, lookup_id: str) -> Lookup | None:
        """The lookup with this `_id`."""
        doc = await find_id(self._c, lookup_id)
        if doc is None:
            return None
        return Lookup(lookup_id=doc["_id"], key_id=doc["key_id"], user_key=doc["user_key"])

    async def add(self, lookup: Lookup) -> bool:
        """Insert once."""
        return await insert_once(
            self._c,
            {"_id": lookup.lookup_id, "key_id": lookup.key_id, "user_key": lookup.user_key},
        )

    async def remove(self, lookup_id: str) -> None:
        """Delete one lookup."""
        await self._c.delete_one({"_id": lookup_id})

    async def remove_user(self, user_key: str) -> int:
        """Delete every lookup of a user."""
        return int((await self._c.delete_many({"user_key": user_key})).deleted_count)


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
        self._c: AsyncCollection[Document] = db["sessions"]

    async def add(self, session: Session) -> None:
        """Store a new session."""
        await self._c.insert_one(
            {
                "_id": session.session_id,
                "user_key": session.user_key,
                "created_at": _at(session.created_at),
                "expires_at": _at(session.expires_at),
            }
        )

    async def get(self, session_id: str) -> Session | None:
        """The session with this id."""
        doc = await find_id(self._c, session_id)
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
        await self._c.delete_one({"_id": session_id})

    async def remove_user(self, user_key: str) -> int:
        """End every session of a user."""
        return int((await self._c.delete_many({"user_key": user_key})).deleted_count)

    async def sweep(self, *, now: float) -> int:
        """Delete expired sessions."""
        return int((await self._c.delete_many({"expires_at": {"$lt": _at(now)}})).deleted_count)
