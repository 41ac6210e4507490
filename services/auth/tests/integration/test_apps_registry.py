"""The app registry on the real servers: registration, secrets kept as hashes, ownership."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from apps_testing import EventsSince, app_body, bearer, new_developer, register

from auth_testing import AuthHarness
from shared.events.auth import AppRegistered

pytestmark = pytest.mark.integration


async def _every_document(auth: AuthHarness) -> str:
    """Every document of every collection of auth's database, as one JSON text."""
    db = auth.container.runtime.db
    docs = [doc for name in await db.list_collection_names() async for doc in db[name].find({})]
    return json.dumps(docs, default=str)


async def test_a_confidential_secret_is_shown_once_and_only_its_hash_is_stored(
    auth: AuthHarness,
) -> None:
    dev = await new_developer(auth)
    since = await EventsSince(auth.settings.kafka_bootstrap_servers).mark()

    created = await register(auth, dev)
    client_id, secret = created["app"]["client_id"], created["client_secret"]

    assert secret.startswith("kcs_")
    assert len(secret) >= 40
    again = await auth.http.get(f"/v1/apps/{client_id}", headers=dev)
    listed = await auth.http.get("/v1/apps", headers=dev)
    assert secret not in again.text
    assert secret not in listed.text
    assert "secret" not in again.json()
    stored = await _every_document(auth)
    assert secret not in stored
    assert hashlib.sha256(secret.encode()).hexdigest() in stored
    assert await auth.container.apps.authenticate(client_id, secret) is not None
    assert await auth.container.apps.authenticate(client_id, secret + "x") is None
    assert await auth.container.apps.authenticate(client_id, "") is None

    events = await since.read(client_id, until=lambda found: len(found) >= 1)
    assert [e.type for e in events] == ["auth.app_registered.v1"]
    data = events[0].data
    assert isinstance(data, AppRegistered)
    assert data.client_type == "confidential"
    assert data.privacy_policy_url == "https://tunes.example/privacy"
    assert data.deletion_webhook_url == "https://tunes.example/hooks/delete"
    assert data.developer_name is not None
    assert data.developer_name.startswith("Dev ")
    assert data.terms_version == "2026-01"
    assert data.retention_days == 30
    assert events[0].subject == client_id
    wire = events[0].to_bytes().decode()
    assert secret not in wire
    assert hashlib.sha256(secret.encode()).hexdigest() not in wire


async def test_a_public_client_has_no_secret_and_cannot_authenticate(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    created = await register(auth, dev, client_type="public")
    client_id = created["app"]["client_id"]

    assert created["client_secret"] is None
    assert created["app"]["client_type"] == "public"
    assert await auth.container.apps.authenticate(client_id, "kcs_anything") is None
    rotated = await auth.http.post(f"/v1/apps/{client_id}/secret", headers=dev)
    assert rotated.status_code == 400
    assert "public client" in rotated.json()["detail"]
    found = await auth.container.apps.get(client_id)
    assert found is not None
    assert found.secret_sha256 is None
    assert found.redirect_uris == tuple(created["app"]["redirect_uris"])


async def test_the_developer_key_is_stored_only_as_its_sha256_id(auth: AuthHarness) -> None:
    developer, key = await auth.container.apps.developers.create(name="Key Holder")

    keys = await auth.container.runtime.db["developer_keys"].find({}).to_list()
    assert [k["_id"] for k in keys] == [hashlib.sha256(key.encode()).hexdigest()]
    assert key not in await _every_document(auth)
    assert key.startswith("kdk_")
    assert len(key) >= 40
    listed = await auth.http.get("/v1/apps", headers=bearer(key))
    assert listed.status_code == 200
    assert listed.json() == {"apps": []}

    new_key = await auth.container.apps.developers.rotate_key(developer.developer_id)
    assert new_key is not None
    assert (await auth.http.get("/v1/apps", headers=bearer(key))).status_code == 401
    assert (await auth.http.get("/v1/apps", headers=bearer(new_key))).status_code == 200
    assert await auth.container.apps.developers.rotate_key("dev_unknown") is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic a2RrXzpzZWNyZXQ="},
        {"Authorization": "Bearer kdk_" + "A" * 43},
        {"Authorization": "Bearer not-a-developer-key"},
    ],
    ids=["none", "empty bearer", "basic", "unknown key", "malformed key"],
)
async def test_no_or_a_wrong_developer_key_is_401_on_every_route(
    auth: AuthHarness, headers: dict[str, str]
) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    calls: list[tuple[str, str, Any]] = [
        ("POST", "/v1/apps", app_body()),
        ("GET", "/v1/apps", None),
        ("GET", f"/v1/apps/{client_id}", None),
        ("PATCH", f"/v1/apps/{client_id}", {"name": "Taken Over"}),
        ("PUT", f"/v1/apps/{client_id}/terms", app_body()["terms"] | {"terms_version": "x"}),
        ("POST", f"/v1/apps/{client_id}/secret", None),
    ]
    for method, path, body in calls:
        response = await auth.http.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "developer API key" in response.json()["detail"]
    stored = await auth.container.apps.get(client_id)
    assert stored is not None
    assert stored.name == "Tune Share"


async def test_another_developer_gets_404_as_for_an_unknown_app_and_changes_nothing(
    auth: AuthHarness,
) -> None:
    owner, other = await new_developer(auth, "Owner"), await new_developer(auth, "Other")
    created = await register(auth, owner)
    client_id, secret = created["app"]["client_id"], created["client_secret"]
    unknown = "app_" + uuid.uuid4().hex
    since = await EventsSince(auth.settings.kafka_bootstrap_servers).mark()

    def calls(app_id: str) -> list[tuple[str, str, Any]]:
        return [
            ("GET", f"/v1/apps/{app_id}", None),
            ("PATCH", f"/v1/apps/{app_id}", {"redirect_uris": ["https://evil.example/cb"]}),
            ("PUT", f"/v1/apps/{app_id}/terms", app_body()["terms"] | {"terms_version": "evil"}),
            ("POST", f"/v1/apps/{app_id}/secret", None),
        ]

    for (method, path, body), (_, unknown_path, _) in zip(
        calls(client_id), calls(unknown), strict=True
    ):
        theirs = await auth.http.request(method, path, json=body, headers=other)
        nobodys = await auth.http.request(method, unknown_path, json=body, headers=other)
        assert theirs.status_code == nobodys.status_code == 404, (method, path)
        assert theirs.json() == nobodys.json() == {"detail": "no such app"}
    assert (await auth.http.get("/v1/apps", headers=other)).json() == {"apps": []}
    app = await auth.container.apps.get(client_id)
    assert app is not None
    assert app.redirect_uris == tuple(created["app"]["redirect_uris"])
    assert app.terms.version == "2026-01"
    assert await auth.container.apps.authenticate(client_id, secret) is not None
    mine = await auth.http.get(f"/v1/apps/{client_id}", headers=owner)
    assert mine.status_code == 200
    assert mine.json() == created["app"]
    # The owner's change is the only event since the mark: the refused ones published nothing.
    renamed = await auth.http.patch(f"/v1/apps/{client_id}", json={"name": "Mine"}, headers=owner)
    assert renamed.status_code == 200
    events = await since.read(client_id, until=lambda found: len(found) >= 1)
    assert [(e.type, e.data.changed) for e in events] == [("auth.app_updated.v1", ("name",))]


async def test_a_developer_lists_only_their_own_apps(auth: AuthHarness) -> None:
    first, second = await new_developer(auth), await new_developer(auth)
    mine = [(await register(auth, first, name=f"App {i}"))["app"] for i in range(3)]
    theirs = (await register(auth, second))["app"]

    listed = (await auth.http.get("/v1/apps", headers=first)).json()["apps"]
    assert listed == mine
    assert theirs["client_id"] not in {app["client_id"] for app in listed}
    assert (await auth.http.get("/v1/apps", headers=second)).json()["apps"] == [theirs]
