"""The registry when a publish fails or a writer crashed: no change is visible without its event.

The broker side is the project's own `EventPublisher` port, replaced by a fake that refuses (a
real outage is what `DurablePublisher` turns into `PublishFailed`); storage is the real database.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from apps_testing import app_body, new_developer, register

from auth.adapters.mongo_apps import MongoAppIndex, MongoApps, MongoDevelopers
from auth.domain.apps import Terms
from auth.service.apps import AppRegistry, Limits
from auth.service.developers import Developers
from auth.service.ports import EventPublisher
from auth_testing import AuthHarness
from shared.events import CloudEvent
from shared.kafka.publisher import PublishFailed

pytestmark = pytest.mark.integration


class FakePublisher:
    """Refuses every event while `failing`, else records it."""

    def __init__(self) -> None:
        self.failing = True
        self.published: list[CloudEvent[Any]] = []

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> None:
        if self.failing:
            raise PublishFailed("broker did not acknowledge within 0.1s")
        self.published.append(event)


def _registry(auth: AuthHarness, publisher: EventPublisher, **limits: Any) -> AppRegistry:
    db = auth.container.runtime.db
    return AppRegistry(
        store=MongoApps(db),
        index=MongoAppIndex(db),
        developers=Developers(store=MongoDevelopers(db)),
        publisher=publisher,
        source="kits.auth",
        limits=Limits(**{"allow_http_loopback": True, **limits}),
    )


async def test_a_refused_publish_is_503_and_leaves_no_visible_change(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    publisher = FakePublisher()
    auth.container.apps = _registry(auth, publisher)
    path = f"/v1/apps/{client_id}"

    answers = [
        await auth.http.post("/v1/apps", json=app_body(name="Never"), headers=dev),
        await auth.http.patch(path, json={"name": "Never"}, headers=dev),
        await auth.http.put(
            f"{path}/terms", json=app_body()["terms"] | {"terms_version": "n"}, headers=dev
        ),
        await auth.http.post(f"{path}/secret", headers=dev),
    ]

    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert "nothing was changed" in answer.json()["detail"]
    listed = (await auth.http.get("/v1/apps", headers=dev)).json()["apps"]
    assert [app["client_id"] for app in listed] == [client_id]
    assert listed[0]["name"] == "Tune Share"
    assert listed[0]["terms"]["terms_version"] == "2026-01"
    claims = await auth.container.runtime.db["app_claims"].find({}).to_list()
    assert sorted(c["_id"] for c in claims) == [f"{client_id}#1"]  # every failed claim released
    publisher.failing = False
    renamed = await auth.http.patch(path, json={"name": "Renamed"}, headers=dev)
    assert renamed.status_code == 200
    assert [e.data.version for e in publisher.published] == [2]  # version 2 was given back


async def test_a_crashed_writers_claim_is_cleared_after_its_lease(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    publisher = FakePublisher()
    publisher.failing = False
    registry = _registry(auth, publisher, claim_lease_s=30.0, max_attempts=3)
    developer = await registry.developers.authenticate(dev["Authorization"].split()[1])
    assert developer is not None
    claims = auth.container.runtime.db["app_claims"]
    # A writer that claimed version 2 and died before publishing, 31 s ago:
    await claims.insert_one(
        {"_id": f"{client_id}#2", "at": datetime.fromtimestamp(time.time() - 31, UTC)}
    )

    changed = await registry.update_terms(developer, client_id, _terms("after-crash"))

    assert changed.terms.version == "after-crash"
    assert [e.data.version for e in publisher.published] == [2]
    claim = await claims.find_one({"_id": f"{client_id}#2"})
    assert claim is not None
    assert claim["at"].timestamp() > time.time() - 10  # the new writer's claim


async def test_a_live_claim_is_waited_for_then_answered_409(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    publisher = FakePublisher()
    publisher.failing = False
    auth.container.apps = _registry(auth, publisher, max_attempts=4)
    # Another writer holds version 2 right now (claimed, publishing):
    await auth.container.runtime.db["app_claims"].insert_one(
        {"_id": f"{client_id}#2", "at": datetime.now(UTC)}
    )

    answer = await auth.http.patch(f"/v1/apps/{client_id}", json={"name": "Late"}, headers=dev)

    assert answer.status_code == 409
    assert "try again" in answer.json()["detail"]
    assert publisher.published == []
    app = await auth.container.apps.get(client_id)
    assert app is not None
    assert app.name == "Tune Share"


async def test_a_change_is_invisible_until_its_event_is_acknowledged(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    publisher = HeldPublisher()
    auth.container.apps = _registry(auth, publisher)

    change = asyncio.create_task(
        auth.http.patch(f"/v1/apps/{client_id}", json={"name": "Held"}, headers=dev)
    )
    await asyncio.wait_for(publisher.arrived.wait(), 10)
    during = await auth.container.apps.get(client_id)
    publisher.ack.set()
    answer = await change

    assert during is not None
    assert during.name == "Tune Share"  # claimed and publishing: readers still see version 1
    assert answer.status_code == 200
    after = await auth.container.apps.get(client_id)
    assert after is not None
    assert after.name == "Held"


async def test_a_request_cancelled_while_publishing_gives_its_claim_back(
    auth: AuthHarness,
) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    publisher = HeldPublisher()
    registry = _registry(auth, publisher)
    developer = await registry.developers.authenticate(dev["Authorization"].split()[1])
    assert developer is not None

    change = asyncio.create_task(registry.update_terms(developer, client_id, _terms("gone")))
    await asyncio.wait_for(publisher.arrived.wait(), 10)
    change.cancel()
    with pytest.raises(asyncio.CancelledError):
        await change

    claims = auth.container.runtime.db["app_claims"]
    assert await claims.find_one({"_id": f"{client_id}#2"}) is None
    app = await registry.get(client_id)
    assert app is not None
    assert app.terms.version == "2026-01"


async def test_a_publish_slower_than_half_the_lease_is_not_committed(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    auth.container.apps = _registry(auth, SlowPublisher(delay_s=0.3), claim_lease_s=0.4)

    answer = await auth.http.patch(f"/v1/apps/{client_id}", json={"name": "Slow"}, headers=dev)

    assert answer.status_code == 409
    assert "too long" in answer.json()["detail"]
    app = await auth.container.apps.get(client_id)
    assert app is not None
    assert app.name == "Tune Share"
    assert await auth.container.runtime.db["app_claims"].find_one({"_id": f"{client_id}#2"}) is None


async def test_a_developer_past_the_app_limit_gets_409(auth: AuthHarness) -> None:
    publisher = FakePublisher()
    publisher.failing = False
    auth.container.apps = _registry(auth, publisher, max_apps_per_developer=2)
    dev = await new_developer(auth)
    await register(auth, dev, name="One")
    await register(auth, dev, name="Two")

    third = await auth.http.post("/v1/apps", json=app_body(name="Three"), headers=dev)

    assert third.status_code == 409
    assert "at most 2 apps" in third.json()["detail"]
    listed = (await auth.http.get("/v1/apps", headers=dev)).json()["apps"]
    assert [app["name"] for app in listed] == ["One", "Two"]
    assert len(publisher.published) == 2


class SlowPublisher:
    """Acknowledges every event after a delay."""

    def __init__(self, *, delay_s: float) -> None:
        self.delay_s = delay_s

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> None:
        await asyncio.sleep(self.delay_s)


class HeldPublisher:
    """Holds each event until the test acknowledges it."""

    def __init__(self) -> None:
        self.arrived, self.ack = asyncio.Event(), asyncio.Event()

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> None:
        self.arrived.set()
        await self.ack.wait()


def _terms(version: str) -> Terms:
    return Terms(url="https://t.example/terms", version=version, recipients=(), retention_days=1)
