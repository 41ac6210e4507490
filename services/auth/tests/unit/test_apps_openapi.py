"""The registry's routes declare their response models and every refusal (the OpenAPI is true)."""

from __future__ import annotations

from typing import Any

import pytest

from auth.main import create_app
from auth_testing import auth_settings
from kits_testing import Servers


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    settings = auth_settings(Servers(kafka="127.0.0.1:1", mongodb_url="mongodb://127.0.0.1:1/"))
    document: dict[str, Any] = create_app(settings).openapi()  # builds, never connects
    return document


def _model(spec: dict[str, Any], path: str, method: str, code: str) -> str:
    response = spec["paths"][path][method]["responses"][code]
    ref: str = response["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


ROUTES = [
    ("/v1/apps", "post", "201", "AppCreated", {"400", "401", "409", "422", "503"}),
    ("/v1/apps", "get", "200", "AppList", {"401"}),
    ("/v1/apps/{client_id}", "get", "200", "AppPublic", {"401", "404", "422"}),
    ("/v1/apps/{client_id}", "patch", "200", "AppPublic", {"400", "401", "404", "409", "503"}),
    ("/v1/apps/{client_id}/terms", "put", "200", "AppPublic", {"400", "401", "404", "409"}),
    ("/v1/apps/{client_id}/secret", "post", "200", "SecretRotated", {"400", "401", "404", "503"}),
    ("/v1/scopes", "get", "200", "ScopeList", set()),
]


@pytest.mark.parametrize(("path", "method", "ok", "model", "refusals"), ROUTES)
def test_each_registry_route_names_its_model_and_refusals(
    spec: dict[str, Any], path: str, method: str, ok: str, model: str, refusals: set[str]
) -> None:
    assert _model(spec, path, method, ok) == model
    for code in refusals - {"422"}:
        assert _model(spec, path, method, code) == "Problem", (path, method, code)
    assert refusals <= set(spec["paths"][path][method]["responses"])


def test_the_public_app_has_no_secret_field(spec: dict[str, Any]) -> None:
    fields = set(spec["components"]["schemas"]["AppPublic"]["properties"])
    assert not {name for name in fields if "secret" in name}
