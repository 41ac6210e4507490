"""`oauth_flows`: authorizations waiting at the consent screen, `_id` = the flow id.

Written once by a unique insert, read by `_id`, claimed by `delete_one` (exactly one caller
gets `deleted_count == 1`), swept after expiry (FerretDB has no TTL). The collection holds only
the flows of the last `AUTH_CONSENT_CHALLENGE_TTL_S` seconds, so it stays small.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from auth.domain.authorize_rules import AuthorizeRequest
from auth.domain.consent_flow import Flow
from auth.service.authorize_ports import FlowExists
from shared.mongo import Document, insert_once

COLLECTION = "oauth_flows"


class MongoFlows:
    """The FlowStore port on Mongo/FerretDB."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._c: AsyncCollection[Document] = db[COLLECTION]

    async def add(self, flow: Flow) -> None:
        """Store a new flow (unique insert)."""
        if not await insert_once(self._c, _document(flow)):
            raise FlowExists(flow.flow_id)

    async def get(self, flow_id: str) -> Flow | None:
        """The flow by id."""
        doc = await self._c.find_one({"_id": flow_id})
        return None if doc is None else _flow(doc)

    async def claim(self, flow_id: str) -> bool:
        """Take the flow: True for exactly one of any number of concurrent callers."""
        result = await self._c.delete_one({"_id": flow_id})
        return bool(result.deleted_count == 1)

    async def sweep(self, *, now: float) -> int:
        """Delete expired flows."""
        result = await self._c.delete_many(
            {"expires_at": {"$lt": datetime.fromtimestamp(now, UTC)}}
        )
        return int(result.deleted_count)


def _document(flow: Flow) -> dict[str, Any]:
    r = flow.request
    return {
        "_id": flow.flow_id,
        "challenge_id": flow.challenge_id,
        "nonce_sha256": flow.nonce_sha256,
        "client_id": r.client_id,
        "redirect_uri": r.redirect_uri,
        "scopes": list(r.scopes),
        "state": r.state,
        "code_challenge": r.code_challenge,
        "nonce": r.nonce,
        "prompt": sorted(r.prompt),
        "user_key": flow.user_key,
        "pairwise_subject": flow.pairwise_subject,
        "purpose": flow.purpose,
        "auth_time": flow.auth_time,
        "created_at": datetime.fromtimestamp(flow.created_at, UTC),
        "expires_at": datetime.fromtimestamp(flow.expires_at, UTC),
    }


def _flow(doc: Document) -> Flow:
    request = AuthorizeRequest(
        client_id=doc["client_id"],
        redirect_uri=doc["redirect_uri"],
        scopes=tuple(doc["scopes"]),
        state=doc.get("state"),
        code_challenge=doc["code_challenge"],
        nonce=doc.get("nonce"),
        prompt=frozenset(doc.get("prompt", ())),
    )
    return Flow(
        flow_id=doc["_id"],
        challenge_id=doc["challenge_id"],
        nonce_sha256=doc["nonce_sha256"],
        request=request,
        user_key=doc["user_key"],
        pairwise_subject=doc["pairwise_subject"],
        purpose=doc["purpose"],
        auth_time=int(doc["auth_time"]),
        created_at=_ts(doc["created_at"]),
        expires_at=_ts(doc["expires_at"]),
    )


def _ts(value: datetime) -> float:
    # Naive datetimes (a client without tz_aware) are UTC as stored.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
