"""Bad input to the app registry on the real servers: a clear 4xx with a reason, never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from apps_testing import app_body, new_developer, register
from redirect_cases import ACCEPTED, REFUSED

from auth_testing import AuthHarness

pytestmark = pytest.mark.integration


async def test_every_refused_redirect_uri_is_a_400_naming_the_rule(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    for uri, reason in REFUSED:
        body = app_body(redirect_uris=["https://ok.example/cb", uri])
        response = await auth.http.post("/v1/apps", json=body, headers=dev)
        assert response.status_code == 400, (uri, response.text)
        assert response.json()["detail"].startswith("redirect_uris[1]: ")
        assert reason in response.json()["detail"], uri
    assert (await auth.http.get("/v1/apps", headers=dev)).json() == {"apps": []}


async def test_accepted_redirect_uris_are_registered_exactly_and_can_replace_others(
    auth: AuthHarness,
) -> None:
    dev = await new_developer(auth)
    created = await register(auth, dev, redirect_uris=ACCEPTED)
    assert created["app"]["redirect_uris"] == ACCEPTED
    client_id = created["app"]["client_id"]
    for uri, reason in REFUSED[:6]:
        patched = await auth.http.patch(
            f"/v1/apps/{client_id}", json={"redirect_uris": [uri]}, headers=dev
        )
        assert patched.status_code == 400, uri
        assert reason in patched.json()["detail"], uri
    app = await auth.container.apps.get(client_id)
    assert app is not None
    assert app.redirect_uris == tuple(ACCEPTED)


async def test_a_uri_beyond_the_model_bound_and_too_many_uris_are_422(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    for uris in (
        ["https://t.example/" + "a" * 2001],
        [f"https://t.example/{i}" for i in range(11)],
    ):
        response = await auth.http.post("/v1/apps", json=app_body(redirect_uris=uris), headers=dev)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][:2] == ["body", "redirect_uris"]


async def test_unknown_scopes_are_refused_by_name(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    response = await auth.http.post(
        "/v1/apps", json=app_body(allowed_scopes=["user.info.basic", "user.email"]), headers=dev
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "allowed_scopes: not in the scope catalogue: 'user.email'"
    catalogue = (await auth.http.get("/v1/scopes")).json()["scopes"]
    assert {s["name"] for s in catalogue} >= {"user.info.basic", "sound.upload"}
    assert all(s["description"] for s in catalogue)


@pytest.mark.parametrize(
    ("field", "value", "status", "reason"),
    [
        ("deletion_webhook_url", "http://hooks.example/delete", 400, "must use https"),
        ("deletion_webhook_url", "https://hooks.example/delete#x", 400, "fragment"),
        ("privacy_policy_url", "privacy", 400, "absolute https"),
        ("name", "   ", 400, "not blank"),
        ("name", "x" * 101, 422, "at most 100"),
        ("name", "Call +49 151 1234 5678", 422, "looks like a phone number"),
        ("client_type", "hybrid", 422, "confidential"),
        ("allowed_scopes", "video.list", 422, "valid list"),
        ("allowed_scopes", [], 422, "at least 1"),
        ("redirect_uris", None, 422, "valid list"),
        ("terms", {"terms_url": "https://t.example"}, 422, "Field required"),
        ("unknown_field", 1, 422, "Extra inputs"),
    ],
)
async def test_wrong_values_and_types_are_refused_with_a_reason(
    auth: AuthHarness, field: str, value: Any, status: int, reason: str
) -> None:
    dev = await new_developer(auth)
    response = await auth.http.post("/v1/apps", json=app_body(**{field: value}), headers=dev)
    assert response.status_code == status, response.text
    assert reason in response.text
    assert "1234 5678" not in response.text  # a refused value is never echoed


@pytest.mark.parametrize(
    "terms_change",
    [
        {"retention_days": "30"},
        {"retention_days": 30.5},
        {"retention_days": -1},
        {"retention_days": True},
        {"recipients": "Tune Share Ltd"},
        {"recipients": [1, 2]},
        {"recipients": ["Tune Share Ltd", "+49 151 1234 5678"]},
        {"terms_version": "+49 151 1234 5678"},
        {"terms_version": "4915112345678"},
    ],
)
async def test_terms_of_the_wrong_type_are_422(
    auth: AuthHarness, terms_change: dict[str, Any]
) -> None:
    dev = await new_developer(auth)
    body = app_body()
    body["terms"] |= terms_change
    response = await auth.http.post("/v1/apps", json=body, headers=dev)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", "terms"]


async def test_missing_fields_malformed_json_and_unknown_apps(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    for missing in ("name", "client_type", "redirect_uris", "terms", "deletion_webhook_url"):
        body = app_body()
        del body[missing]
        response = await auth.http.post("/v1/apps", json=body, headers=dev)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", missing]
    broken = await auth.http.post(
        "/v1/apps", content=b'{"name": ', headers=dev | {"content-type": "application/json"}
    )
    assert broken.status_code == 422
    unknown = "app_" + uuid.uuid4().hex
    for method, path in [
        ("GET", f"/v1/apps/{unknown}"),
        ("PATCH", f"/v1/apps/{unknown}"),
        ("POST", f"/v1/apps/{unknown}/secret"),
    ]:
        patch: dict[str, Any] | None = {"name": "X"} if method == "PATCH" else None
        response = await auth.http.request(method, path, json=patch, headers=dev)
        assert response.status_code == 404
        assert response.json() == {"detail": "no such app"}
    malformed = await auth.http.get("/v1/apps/not-an-app-id", headers=dev)
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["path", "client_id"]
    for change in (
        {"recipients": ["Someone Else"]},
        {"retention_days": 1},
        {"client_type": "public"},
    ):
        patched = await auth.http.patch(f"/v1/apps/{client_id}", json=change, headers=dev)
        assert patched.status_code == 422, change
        assert "Extra inputs" in patched.text
