"""Changes to registered apps on the real servers: each a new version and one durable event."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from typing import Any

import pytest
from apps_testing import EventsSince, new_developer, register

from auth_testing import AuthHarness
from shared.events.auth import AppTermsUpdated, AppUpdated

pytestmark = pytest.mark.integration


def _terms(version: str, **changes: Any) -> dict[str, Any]:
    terms = {
        "terms_url": f"https://tunes.example/terms/{version}",
        "terms_version": version,
        "recipients": ["Tune Share Ltd"],
        "retention_days": 14,
    }
    return terms | changes


async def _versions(auth: AuthHarness, client_id: str) -> list[int]:
    """The committed versions of an app, read from the collection."""
    docs = await auth.container.runtime.db["apps"].find({"key": client_id}).to_list()
    return sorted(doc["version"] for doc in docs if doc["_id"] != client_id)


async def test_an_update_is_a_new_version_and_one_app_updated_event(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    since = await EventsSince(auth.settings.kafka_bootstrap_servers).mark()
    change = {"redirect_uris": ["https://tunes.example/v2/cb"], "allowed_scopes": ["video.list"]}

    patched = await auth.http.patch(f"/v1/apps/{client_id}", json=change, headers=dev)
    same = await auth.http.patch(f"/v1/apps/{client_id}", json=change, headers=dev)

    assert patched.status_code == 200
    assert same.status_code == 200
    assert patched.json()["redirect_uris"] == ["https://tunes.example/v2/cb"]
    assert same.json() == patched.json()
    app = await auth.container.apps.get(client_id)
    assert app is not None
    assert app.redirect_uris == ("https://tunes.example/v2/cb",)
    assert app.allowed_scopes == ("video.list",)
    assert await _versions(auth, client_id) == [1, 2]  # the repeated change wrote nothing
    events = await since.read(client_id, until=lambda found: len(found) >= 1)
    assert len(events) == 1
    data = events[0].data
    assert isinstance(data, AppUpdated)
    assert data.changed == ("redirect_uris", "allowed_scopes")
    assert data.version == 2
    assert data.redirect_uris == ("https://tunes.example/v2/cb",)
    assert data.client_type == "confidential"
    assert data.terms_version == "2026-01"


async def test_new_terms_are_a_new_version_and_an_app_terms_updated_event(
    auth: AuthHarness,
) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    since = await EventsSince(auth.settings.kafka_bootstrap_servers).mark()

    updated = await auth.http.put(
        f"/v1/apps/{client_id}/terms",
        json=_terms("2026-02", recipients=["Tune Share Ltd", "Label Co"], retention_days=90),
        headers=dev,
    )
    reused = await auth.http.put(f"/v1/apps/{client_id}/terms", json=_terms("2026-01"), headers=dev)

    assert updated.status_code == 200
    assert updated.json()["terms"] == {
        "terms_url": "https://tunes.example/terms/2026-02",
        "terms_version": "2026-02",
        "recipients": ["Tune Share Ltd", "Label Co"],
        "retention_days": 90,
    }
    assert reused.status_code == 400
    assert "already used" in reused.json()["detail"]
    events = await since.read(client_id, until=lambda found: len(found) >= 1)
    assert [e.type for e in events] == ["auth.app_terms_updated.v1"]
    data = events[0].data
    assert isinstance(data, AppTermsUpdated)
    assert (data.previous_terms_version, data.terms_version) == ("2026-01", "2026-02")
    assert data.recipients == ("Tune Share Ltd", "Label Co")
    assert data.retention_days == 90
    assert data.version == 2
    app = await auth.container.apps.get(client_id)
    assert app is not None
    assert app.terms.version == "2026-02"


async def test_a_rotated_secret_replaces_the_old_one_and_only_its_hash_is_kept(
    auth: AuthHarness,
) -> None:
    dev = await new_developer(auth)
    created = await register(auth, dev)
    client_id, old = created["app"]["client_id"], created["client_secret"]
    since = await EventsSince(auth.settings.kafka_bootstrap_servers).mark()

    rotated = await auth.http.post(f"/v1/apps/{client_id}/secret", headers=dev)

    assert rotated.status_code == 200
    new = rotated.json()["client_secret"]
    assert new != old
    assert rotated.json()["client_id"] == client_id
    assert await auth.container.apps.authenticate(client_id, old) is None
    assert await auth.container.apps.authenticate(client_id, new) is not None
    heads = await auth.container.runtime.db["apps"].find({"key": client_id}).to_list()
    stored = repr(heads)
    assert new not in stored
    assert old not in stored
    assert hashlib.sha256(new.encode()).hexdigest() in stored
    events = await since.read(client_id, until=lambda found: len(found) >= 1)
    assert [(e.type, e.data.changed) for e in events] == [
        ("auth.app_updated.v1", ("client_secret",))
    ]
    assert new not in events[0].to_bytes().decode()
    assert hashlib.sha256(new.encode()).hexdigest() not in events[0].to_bytes().decode()


async def test_sixteen_concurrent_terms_updates_form_one_chain_each_published_once(
    auth: AuthHarness,
) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    since = await EventsSince(auth.settings.kafka_bootstrap_servers).mark()
    labels = [f"c{i:02d}" for i in range(16)]

    answers = await asyncio.gather(
        *(
            auth.http.put(f"/v1/apps/{client_id}/terms", json=_terms(label), headers=dev)
            for label in labels
        )
    )

    codes = [answer.status_code for answer in answers]
    assert set(codes) <= {200, 409}, [a.text for a in answers]
    won = {label for label, code in zip(labels, codes, strict=True) if code == 200}
    assert won
    events = await since.read(client_id, until=lambda found: len(found) >= len(won))
    chain = [(e.data.previous_terms_version, e.data.terms_version) for e in events]
    assert len(events) == len(won)  # each change once, none for a refused one
    assert len({e.id for e in events}) == len(events)
    assert {new for _, new in chain} == won
    assert chain[0][0] == "2026-01"
    for (_, before), (after_prev, _) in itertools.pairwise(chain):
        assert after_prev == before  # each event continues the one before: no fork
    assert [e.data.version for e in events] == list(range(2, 2 + len(won)))
    assert await _versions(auth, client_id) == list(range(1, 2 + len(won)))
    app = await auth.container.apps.get(client_id)
    assert app is not None
    assert app.terms.version == chain[-1][1]
    assert app.earlier_terms_versions == ("2026-01", *(new for _, new in chain[:-1]))


async def test_concurrent_registrations_by_one_developer_are_all_listed(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    created = await asyncio.gather(*(register(auth, dev, name=f"App {i}") for i in range(12)))
    listed = (await auth.http.get("/v1/apps", headers=dev)).json()["apps"]
    assert sorted(a["client_id"] for a in listed) == sorted(c["app"]["client_id"] for c in created)
