"""Deletion requests in Mongo: every document written once by a unique `_id`, one small set scanned.

- `deletion_requests` `_id` = request id: the request as first made (kept).
- `deletion_pending` `_id` = request id: the requests not yet concluded; the dispatcher reads the
  whole set each round, so a request leaves it once its outcome is published.
- `deletion_claims` `_id` = `<request id>/<attempt>`: who took an attempt, before sending (kept).
- `deletion_attempts` `_id` = `<request id>/<attempt>`: what the attempt got (kept).
- `deletion_outcomes` `_id` = request id: the conclusion (kept).
The only update is `announced` on a pending document: an idempotent flag, never a lock.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from consent.service.deletion_ports import (
    AttemptResult,
    Claim,
    DeletionRequest,
    Pending,
    RecordedOutcome,
)
from shared.mongo import Document, insert_once

REQUEST_FIELDS = DeletionRequest.__slots__


class MongoDeletions:
    """The `DeletionStore` port on the service's database."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._requests = db["deletion_requests"]
        self._pending = db["deletion_pending"]
        self._claims = db["deletion_claims"]
        self._attempts = db["deletion_attempts"]
        self._outcomes = db["deletion_outcomes"]

    async def add_request(self, request: DeletionRequest) -> bool:
        """Insert once; False when this (consent id, version) was already requested."""
        return await insert_once(self._requests, _request_doc(request))

    async def get_request(self, request_id: str) -> DeletionRequest | None:
        """The request with this id."""
        doc = await self._requests.find_one({"_id": request_id})
        return None if doc is None else _request(doc)

    async def add_pending(self, request: DeletionRequest) -> bool:
        """Insert once into the pending set; False when it is there already."""
        return await insert_once(self._pending, {**_request_doc(request), "announced": False})

    async def mark_announced(self, request_id: str) -> None:
        """Note that the requested event is on the broker."""
        await self._pending.update_one({"_id": request_id}, {"$set": {"announced": True}})

    async def pending(self) -> list[Pending]:
        """Every pending request."""
        return [
            Pending(request=_request(doc), announced=bool(doc.get("announced")))
            async for doc in self._pending.find({})
        ]

    async def is_pending(self, request_id: str) -> bool:
        """Whether the request is still in the pending set."""
        return await self._pending.find_one({"_id": request_id}, {"_id": 1}) is not None

    async def remove_pending(self, request_id: str) -> None:
        """Drop a concluded request from the pending set."""
        await self._pending.delete_one({"_id": request_id})

    async def claim(self, claim: Claim) -> bool:
        """Take an attempt; True for exactly one caller."""
        doc = {
            "_id": _attempt_id(claim.request_id, claim.attempt),
            "request_id": claim.request_id,
            "attempt": claim.attempt,
            "owner": claim.owner,
            "claimed_at": claim.claimed_at,
        }
        return await insert_once(self._claims, doc)

    async def get_claim(self, request_id: str, attempt: int) -> Claim | None:
        """The claim of that attempt, if any."""
        doc = await self._claims.find_one({"_id": _attempt_id(request_id, attempt)})
        if doc is None:
            return None
        return Claim(request_id, int(doc["attempt"]), str(doc["owner"]), float(doc["claimed_at"]))

    async def add_result(self, result: AttemptResult) -> bool:
        """Record an attempt's result once."""
        doc: dict[str, Any] = {name: getattr(result, name) for name in AttemptResult.__slots__}
        doc["_id"] = _attempt_id(result.request_id, result.attempt)
        return await insert_once(self._attempts, doc)

    async def get_result(self, request_id: str, attempt: int) -> AttemptResult | None:
        """The recorded result of that attempt, if any."""
        doc = await self._attempts.find_one({"_id": _attempt_id(request_id, attempt)})
        return None if doc is None else _result(doc)

    async def add_outcome(self, outcome: RecordedOutcome) -> bool:
        """Record the conclusion once."""
        doc: dict[str, Any] = {name: getattr(outcome, name) for name in RecordedOutcome.__slots__}
        doc["_id"] = outcome.request_id
        return await insert_once(self._outcomes, doc)

    async def get_outcome(self, request_id: str) -> RecordedOutcome | None:
        """The request's conclusion, if recorded."""
        doc = await self._outcomes.find_one({"_id": request_id})
        if doc is None:
            return None
        return RecordedOutcome(
            request_id=str(doc["request_id"]),
            outcome=doc["outcome"],
            detail=str(doc["detail"]),
            recorded_at=float(doc["recorded_at"]),
            owner=str(doc["owner"]),
        )


def _attempt_id(request_id: str, attempt: int) -> str:
    return f"{request_id}/{attempt}"


def _request_doc(request: DeletionRequest) -> Document:
    doc: Document = {name: getattr(request, name) for name in REQUEST_FIELDS}
    doc["_id"] = request.request_id
    return doc


def _request(doc: Document) -> DeletionRequest:
    return DeletionRequest(**{name: doc[name] for name in REQUEST_FIELDS})


def _result(doc: Document) -> AttemptResult:
    fields: dict[str, Any] = {name: doc.get(name) for name in AttemptResult.__slots__}
    return AttemptResult(**fields)
