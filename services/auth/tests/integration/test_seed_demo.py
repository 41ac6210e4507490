"""`auth-admin seed-demo` on the real database (item 8 of issue 15): demo users a developer can
log in as, written as login writes them, idempotent, with no number stored in clear."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import pytest
from bson import json_util
from pymongo.asynchronous.database import AsyncDatabase

from auth.adapters.mongo_login import LOOKUPS, MongoLookups, MongoUsers
from auth.adapters.mongo_profiles import profile_store
from auth.domain.identity import LookupKeys
from auth.entrypoints.cli import COMMANDS, parser
from auth.service.demo_data import generated_users, named_users
from auth.service.profiles import Profiles
from auth.service.seed import DemoSeeder
from auth_testing import AuthHarness
from shared.events import CloudEvent
from shared.mongo import Shards

pytestmark = pytest.mark.integration


@dataclass
class FakePublisher:
    """`EventPublisher` that keeps what it was given."""

    events: list[CloudEvent[Any]] = field(default_factory=list)

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> None:
        self.events.append(event)


def _seeder(
    db: AsyncDatabase[dict[str, Any]], keys: LookupKeys, publisher: FakePublisher
) -> DemoSeeder:
    return DemoSeeder(
        lookups=MongoLookups(db),
        users=MongoUsers(db),
        profiles=Profiles(store=profile_store(db), development=True),
        keys=keys,
        publisher=publisher,
        source="kits.auth",
    )


def _forms(e164: str) -> list[str]:
    """The number in every common written form, and its unkeyed digests."""
    n = phonenumbers.parse(e164)
    fmt = phonenumbers.PhoneNumberFormat
    national = phonenumbers.format_number(n, fmt.NATIONAL)
    international = phonenumbers.format_number(n, fmt.INTERNATIONAL)
    forms = [e164, e164[1:], national, national.replace(" ", ""), international]
    forms += [international.replace(" ", "-"), national.replace(" ", "-"), f"tel:{e164}"]
    forms += [national.replace(" ", "")[1:]]  # national significant number
    forms += [h(e164.encode()).hexdigest() for h in (hashlib.md5, hashlib.sha1, hashlib.sha256)]
    return forms


async def _dump(db: AsyncDatabase[dict[str, Any]]) -> str:
    parts = []
    for name in await db.list_collection_names():
        parts += [json_util.dumps(doc) async for doc in db[name].find({})]
    return "\n".join(parts)


async def test_seed_demo_command_is_idempotent_and_stores_no_number(
    auth: AuthHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    run = COMMANDS["seed-demo"][2]
    args = parser().parse_args(["seed-demo", "--users", "5", "--videos-per-user", "2"])
    assert await run(auth.container, args) == 0
    first = capsys.readouterr().out
    people = named_users() + generated_users(5, videos_per_user=2)
    for person in people:
        assert person.phone in first  # printed for the developer to log in with
    assert first.count("created") == len(people)
    db = auth.container.runtime.db
    keys = LookupKeys(keys=auth.settings.lookup_key_map(), current=auth.settings.lookup_key_id)
    lookups = {doc["_id"]: doc for doc in await Shards(db, LOOKUPS).find()}
    assert len(lookups) == len(people)
    user_keys = {}
    for person in people:
        (key_id, lookup_id), *_ = keys.ids(e164=person.phone)
        assert lookups[lookup_id]["key_id"] == key_id  # exactly the `_id` login will look for
        user_keys[person.phone] = lookups[lookup_id]["user_key"]
    assert await db["users"].count_documents({}) == len(people)
    ada = await auth.container.profiles.page(user_keys[people[0].phone], cursor=None, max_count=20)
    assert ada.profile.display_name == "Ada Lumen"
    assert [v.title for v in ada.page.videos] == ["Lamp tour", "Sunrise on a desk"]
    generated = await auth.container.profiles.get(user_keys[people[-1].phone])
    assert len(generated.videos) == 2

    before = await _dump(db)
    assert await run(auth.container, args) == 0
    second = capsys.readouterr().out
    assert second.count("exists") == len(people)
    assert "created" not in second
    assert await Shards(db, LOOKUPS).count() == len(people)
    assert await db["users"].count_documents({}) == len(people)
    again = {doc["_id"]: doc["user_key"] for doc in await Shards(db, LOOKUPS).find()}
    assert {v for v in again.values()} == set(user_keys.values())
    assert len((await auth.container.profiles.get(user_keys[people[-1].phone])).videos) == 2
    assert await _dump(db) == before  # nothing rewritten: not even a new profile version

    stored = await _dump(db)
    for person in people:
        for form in _forms(person.phone):
            assert form not in stored


async def test_seed_publishes_sign_up_once_and_follows_a_rotated_key(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    people = named_users()
    old_keys = LookupKeys(keys={"lk1": b"k" * 32}, current="lk1")
    published = FakePublisher()
    first = await _seeder(db, old_keys, published).seed(people)
    assert [e.type for e in published.events] == ["auth.user_signed_up.v1"] * len(people)
    assert {e.subject for e in published.events} == {s.user_key for s in first}

    rotated = LookupKeys(keys={"lk1": b"k" * 32, "lk2": b"n" * 32}, current="lk2")
    later = FakePublisher()
    second = await _seeder(db, rotated, later).seed(people)
    assert later.events == []
    assert [s.user_key for s in second] == [s.user_key for s in first]
    assert not any(s.created for s in second)
    for person in people:
        (_, new_id), (_, old_id) = rotated.ids(e164=person.phone)
        assert await Shards(db, LOOKUPS).count({"_id": new_id}) == 1
        assert await Shards(db, LOOKUPS).count({"_id": old_id}) == 0  # re-keyed, as login does
    assert await Shards(db, LOOKUPS).count() == len(people)


def test_the_demo_numbers_are_valid_and_fictional() -> None:
    numbers = [p.phone for p in named_users() + generated_users(900, videos_per_user=0)]
    assert len(set(numbers)) == len(numbers) == 904
    for e164 in numbers:
        parsed = phonenumbers.parse(e164)
        assert phonenumbers.is_valid_number(parsed)
        assert e164.startswith("+44207946")  # Ofcom's drama range: never anyone's number
    with pytest.raises(ValueError, match="at most 900"):
        generated_users(901, videos_per_user=0)


@pytest.mark.parametrize(
    "argv",
    [
        ["seed-demo", "--users", "901"],
        ["seed-demo", "--videos-per-user", "101"],
        ["seed-demo", "--users", "-1"],
    ],
)
def test_seed_arguments_are_bounded(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(argv)
    assert "must be 0 to" in capsys.readouterr().err


def test_seed_demo_is_registered() -> None:
    args = parser().parse_args(["seed-demo"])
    assert isinstance(args, argparse.Namespace)
    assert (args.users, args.videos_per_user) == (0, 3)


async def test_seed_demo_refuses_outside_development(
    auth: AuthHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    production = auth.settings.model_copy(update={"environment": "production"})
    container = dataclasses.replace(auth.container, settings=production)
    assert await COMMANDS["seed-demo"][2](container, parser().parse_args(["seed-demo"])) == 2
    assert "development" in capsys.readouterr().err
    assert await Shards(auth.container.runtime.db, LOOKUPS).count() == 0
