"""The Mongo adapters on the real database, and the fakes held to the same behaviour."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from example_testing import FakeRevokedConsents, new_key, revocation_of
from kits_example.adapters.mongo_consents import MongoRevokedConsents
from kits_example.adapters.mongo_profiles import MongoProfileStore
from kits_example.domain.model import Profile, Revocation
from kits_example.service.ports import RevokedConsents

pytestmark = pytest.mark.integration


def as_revocation(user: str, consent: str) -> Revocation:
    cmd = revocation_of(user, consent_id=consent)
    return Revocation(
        consent_id=cmd.consent_id,
        version=cmd.version,
        user_key=cmd.user_key,
        app_id=cmd.app_id,
        event_id=cmd.event_id,
        revoked_at=cmd.revoked_at.replace(microsecond=0),  # BSON keeps milliseconds
    )


@pytest.fixture(params=["mongo", "fake"])
def revoked(request: pytest.FixtureRequest, db: AsyncDatabase[dict[str, Any]]) -> RevokedConsents:
    """The port on the real database, and its fake: both must pass the same tests."""
    if request.param == "mongo":
        return MongoRevokedConsents(db)
    return FakeRevokedConsents()


async def test_the_first_revocation_of_a_consent_wins_and_reads_back_whole(
    revoked: RevokedConsents,
) -> None:
    user, consent = new_key("uk"), new_key("c")
    first = as_revocation(user, consent)

    assert await revoked.add(first)
    assert not await revoked.add(first)
    assert not await revoked.add(as_revocation(user, consent))
    assert await revoked.get(consent) == first
    assert await revoked.get(new_key("c")) is None


async def test_concurrent_copies_of_a_revocation_store_exactly_one(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    store, user, consent = MongoRevokedConsents(db), new_key("uk"), new_key("c")
    copies = [as_revocation(user, consent) for _ in range(32)]

    results = await asyncio.gather(*(store.add(c) for c in copies))

    assert results.count(True) == 1
    stored = await store.get(consent)
    assert stored == copies[results.index(True)]


async def test_a_profile_is_created_replaced_and_read_by_user_key(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    store, user = MongoProfileStore(db), new_key("uk")
    assert await store.get(user) is None

    await store.save(Profile(user_key=user, username="ada_l"))
    await store.save(Profile(user_key=user, username="ada_lovelace"))

    assert await store.get(user) == Profile(user_key=user, username="ada_lovelace")
    assert await db["profiles"].count_documents({}) == 1
