"""Each race pattern of DESIGN.md on the real server: 32 concurrent clients, exactly one wins.

These hold on FerretDB, whose conditional updates are not atomic, because the winner is decided
by a unique index (or `_id`) or a `delete_one`, which are.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from kits_testing import Servers
from shared.mongo import claim, insert_once

pytestmark = pytest.mark.integration
CLIENTS = 32
ROUNDS = 25


@pytest.fixture(scope="module")
async def clients(servers: Servers) -> AsyncIterator[list[AsyncMongoClient[dict[str, Any]]]]:
    """32 separate clients, each with its own connection."""
    made: list[AsyncMongoClient[dict[str, Any]]] = [
        AsyncMongoClient(servers.mongodb_url, maxPoolSize=1, serverSelectionTimeoutMS=5000)
        for _ in range(CLIENTS)
    ]
    await asyncio.gather(*(c.admin.command("ping") for c in made))
    yield made
    await asyncio.gather(*(c.close() for c in made))


async def test_unique_insert_claim_has_exactly_one_winner(
    clients: list[AsyncMongoClient[dict[str, Any]]], db: AsyncDatabase[dict[str, Any]]
) -> None:
    """E.g. a one-time code redeemed: the redemption record's `_id` is the code."""
    for round_ in range(ROUNDS):
        results = await asyncio.gather(
            *(
                insert_once(c[db.name].redemptions, {"_id": f"code-{round_}", "by": i})
                for i, c in enumerate(clients)
            )
        )
        assert sum(results) == 1, f"round {round_}: {sum(results)} winners"
    assert await db.redemptions.count_documents({}) == ROUNDS


async def test_unique_index_claim_on_a_derived_key_has_exactly_one_winner(
    clients: list[AsyncMongoClient[dict[str, Any]]], db: AsyncDatabase[dict[str, Any]]
) -> None:
    """E.g. consent version n+1 written once: a compound unique index decides."""
    await db.versions.create_index([("consent_id", 1), ("version", 1)], unique=True)
    for round_ in range(ROUNDS):
        results = await asyncio.gather(
            *(
                insert_once(
                    c[db.name].versions, {"consent_id": "c1", "version": round_ + 1, "by": i}
                )
                for i, c in enumerate(clients)
            )
        )
        assert sum(results) == 1, f"round {round_}: {sum(results)} winners"


async def test_delete_one_claim_has_exactly_one_winner(
    clients: list[AsyncMongoClient[dict[str, Any]]], db: AsyncDatabase[dict[str, Any]]
) -> None:
    """E.g. a pending authorization code taken by deleting it."""
    for round_ in range(ROUNDS):
        await db.pending.insert_one({"_id": f"auth-code-{round_}", "state": "pending"})
        results = await asyncio.gather(
            *(claim(c[db.name].pending, {"_id": f"auth-code-{round_}"}) for c in clients)
        )
        assert sum(results) == 1, f"round {round_}: {sum(results)} winners"
    assert await db.pending.count_documents({}) == 0


async def test_idempotent_effect_by_event_id_applies_once(
    clients: list[AsyncMongoClient[dict[str, Any]]], db: AsyncDatabase[dict[str, Any]]
) -> None:
    """One event delivered to 32 consumers at once (redelivery storm): one effect."""
    for round_ in range(ROUNDS):
        event_id = f"01a2-event-{round_}"
        results = await asyncio.gather(
            *(
                insert_once(c[db.name].effects, {"_id": event_id, "revoked": "c1", "by": i})
                for i, c in enumerate(clients)
            )
        )
        assert sum(results) == 1, f"round {round_}: {sum(results)} winners"
    assert await db.effects.count_documents({}) == ROUNDS
