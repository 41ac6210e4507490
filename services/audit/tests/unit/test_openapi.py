"""The audit's published OpenAPI says what each route really answers (item 20 of issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

from audit.main import create_app
from audit_testing import audit_settings
from kits_testing import Servers


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    settings = audit_settings(Servers(kafka="127.0.0.1:1", mongodb_url="mongodb://127.0.0.1:1/"))
    document: dict[str, Any] = create_app(settings).openapi()  # builds, never connects
    return document


def _schema(spec: dict[str, Any], path: str, code: str) -> str:
    content = spec["paths"][path]["get"]["responses"][code]["content"]["application/json"]
    ref: str = content["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/ledger/keys", "KeysPublic"),
        ("/ledger/checkpoints/latest", "CheckpointPublic"),
        ("/ledger/checkpoints/{checkpoint_id}", "CheckpointPublic"),
        ("/ledger/entries/{event_id}", "InclusionPublic"),
        ("/ledger/consistency", "ConsistencyPublic"),
        ("/reports/me", "AccessReportPublic"),
    ],
)
def test_each_ledger_route_names_its_response_model(
    spec: dict[str, Any], path: str, model: str
) -> None:
    assert _schema(spec, path, "200") == model


def test_refusals_are_declared_with_their_body(spec: dict[str, Any]) -> None:
    assert _schema(spec, "/ledger/entries/{event_id}", "404") == "Problem"
    assert _schema(spec, "/ledger/entries/{event_id}", "409") == "Problem"
    assert _schema(spec, "/ledger/entries/{event_id}", "401") == "Problem"
    assert _schema(spec, "/reports/me", "401") == "Problem"


def test_no_route_answers_an_untyped_object(spec: dict[str, Any]) -> None:
    for path, methods in spec["paths"].items():
        if path == "/asyncapi.json":  # FastStream's document, whatever its shape
            continue
        ok = methods["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok != {}, path
        assert ok.get("additionalProperties") is not True, path
