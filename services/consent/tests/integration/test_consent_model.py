"""A stateful property test: random grants, revokes, terms changes, renewals and account
deletions; after every step the check's answer equals a small model's, for every user, app and
scope set. The records live in the real database; the events go to a fake of consent's own
`ConsentEvents` port (the broker path has its own tests), so one example costs milliseconds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from pymongo import AsyncMongoClient

from consent.adapters.mongo_apps import MongoApps
from consent.adapters.mongo_consents import MongoConsents, create_consent_indexes
from consent.domain.apps import App
from consent.domain.model import Terms
from consent.service.auth_events import AuthEventHandlers
from consent.service.checks import Checks
from consent.service.consents import Consents
from consent.service.fresh_apps import FreshApps
from consent_testing import FakeDeletionRequester
from kits_testing import Servers

pytestmark = pytest.mark.integration
T = TypeVar("T")
SCOPES = ("user.info.basic", "video.list", "sound.share")
SCOPE_SETS = (("user.info.basic",), ("video.list",), ("user.info.basic", "video.list"), SCOPES)
ASKED = SCOPE_SETS[:3]  # what the invariant asks about (a set never granted alone is covered)
USERS, APPS = 3, 2


@dataclass
class FakeConsentEvents:
    """Consent's `ConsentEvents` port in memory."""

    published: list[tuple[str, bytes]] = field(default_factory=list)

    async def publish(self, *, key: str, value: bytes) -> None:
        self.published.append((key, value))


@dataclass
class World:
    """What every example shares: one loop and one database client."""

    loop: asyncio.AbstractEventLoop
    client: AsyncMongoClient[dict[str, Any]]
    database: str

    def run(self, step: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(step)


WORLD: list[World] = []


class ConsentModel(RuleBasedStateMachine):
    """The service and the model, driven together."""

    def __init__(self) -> None:
        super().__init__()
        world = WORLD[0]
        db = world.client[world.database]
        store, self.apps = MongoConsents(db), MongoApps(db)
        self.consents = Consents(
            store=store,
            apps=self.apps,
            events=FakeConsentEvents(),
            deletions=FakeDeletionRequester(),
            source="/t-consent",
        )
        # The check keeps apps for a minute, as a busy service would: only the write-through of
        # the consumer's saves can make a terms change bite at the next step.
        fresh = FreshApps(self.apps, fresh_s=60.0)
        self.checks = Checks(store=store, apps=fresh)
        self.auth = AuthEventHandlers(apps=fresh.writer(), consents=self.consents)
        self.run = world.run
        run_id = uuid.uuid4().hex[:8]
        self.users = [f"uk_{run_id}_{n}" for n in range(USERS)]
        self.app_ids = [f"app_{run_id}_{n}" for n in range(APPS)]
        self.terms = dict.fromkeys(self.app_ids, 1)
        # (user, app) -> ("active", scopes, terms) | ("invalidated",) | ("revoked",)
        self.model: dict[tuple[str, str], tuple[Any, ...]] = {}
        for app in self.app_ids:
            self.run(self.apps.save(_app(app, terms=1)))

    @rule(
        user=st.integers(0, USERS - 1),
        app=st.integers(0, APPS - 1),
        scopes=st.sampled_from(SCOPE_SETS),
    )
    def grant(self, user: int, app: int, scopes: tuple[str, ...]) -> None:
        u, a = self.users[user], self.app_ids[app]
        self.run(self._grant(u, a, scopes))
        self.model[(u, a)] = ("active", frozenset(scopes), self.terms[a])

    @rule(user=st.integers(0, USERS - 1), app=st.integers(0, APPS - 1))
    def renew(self, user: int, app: int) -> None:
        u, a = self.users[user], self.app_ids[app]
        state = self.model.get((u, a))
        if state is None or state[0] != "invalidated":
            return
        latest = self.run(self.consents.latest(user_key=u, app_id=a))
        assert latest is not None
        assert latest.status == "invalidated"
        self.run(self._grant(u, a, latest.scopes))
        self.model[(u, a)] = ("active", frozenset(latest.scopes), self.terms[a])

    @rule(user=st.integers(0, USERS - 1), app=st.integers(0, APPS - 1))
    def revoke(self, user: int, app: int) -> None:
        u, a = self.users[user], self.app_ids[app]
        latest = self.run(self.consents.latest(user_key=u, app_id=a))
        assert (latest is None) == ((u, a) not in self.model)
        if latest is not None:
            self.run(self.consents.revoke(user_key=u, consent_id=latest.consent_id))
            self.model[(u, a)] = ("revoked",)

    @rule(app=st.integers(0, APPS - 1))
    def change_terms(self, app: int) -> None:
        a = self.app_ids[app]
        self.terms[a] += 1
        terms = _terms(self.terms[a])
        event_id = f"ev_{uuid.uuid4().hex}"
        self.run(
            self.auth.terms_updated(event_id=event_id, app_id=a, terms=terms, terms_url="https://t")
        )
        for key, state in self.model.items():
            if key[1] == a and state[0] == "active":
                self.model[key] = ("invalidated",)

    @rule(user=st.integers(0, USERS - 1))
    def delete_account(self, user: int) -> None:
        u = self.users[user]
        self.run(self.auth.user_deleted(user_key=u))
        for key in self.model:
            if key[0] == u:
                self.model[key] = ("revoked",)

    @invariant()
    def the_check_agrees_with_the_model(self) -> None:
        for u in self.users:
            for a in self.app_ids:
                for scopes in ASKED:
                    verdict = self.run(self.checks.check(user_key=u, app_id=a, scopes=scopes))
                    assert verdict.allowed == self._allowed(u, a, scopes), (u, a, scopes, verdict)

    def _allowed(self, user: str, app: str, scopes: tuple[str, ...]) -> bool:
        state = self.model.get((user, app))
        if state is None or state[0] != "active":
            return False
        return bool(set(scopes) <= state[1] and state[2] == self.terms[app])

    async def _grant(self, user: str, app: str, scopes: tuple[str, ...]) -> None:
        await self.consents.grant(
            user_key=user, app_id=app, scopes=scopes, purpose="p", pairwise_subject="ps_m"
        )


def _terms(n: int) -> Terms:
    return Terms(version=f"t{n}", recipients=("r.example",), retention_days=30)


def _app(app_id: str, *, terms: int) -> App:
    return App(
        app_id=app_id,
        name=app_id,
        allowed_scopes=SCOPES,
        terms=_terms(terms),
        terms_url="https://t",
        deletion_webhook_url=None,
    )


def test_the_check_always_equals_the_model(servers: Servers) -> None:
    loop = asyncio.new_event_loop()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url, tz_aware=True)
    world = World(loop=loop, client=client, database=f"t_consent_model_{uuid.uuid4().hex[:10]}")
    WORLD[:] = [world]
    try:
        world.run(create_consent_indexes(client[world.database]))
        run_state_machine_as_test(
            ConsentModel,
            settings=settings(
                max_examples=10,
                stateful_step_count=10,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        world.run(client.drop_database(world.database))
        world.run(client.close())
        loop.close()
