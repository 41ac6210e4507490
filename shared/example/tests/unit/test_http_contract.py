"""The example's OpenAPI says what its routes really answer (built without connecting)."""

from __future__ import annotations

from typing import Any

from kits_example.config import ExampleSettings
from kits_example.main import create_app


def operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


def test_the_release_route_declares_its_body_and_every_refusal() -> None:
    document = create_app(ExampleSettings(environment="development")).openapi()

    release = operation(document, "/profiles/{user_key}/releases", "post")
    responses = release["responses"]
    assert set(responses) == {"200", "404", "409", "422", "503"}
    ok = responses["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ProfilePublic"}
    assert "transfer-id" in responses["200"]["headers"]
    for code in ("404", "409", "503"):
        schema = responses[code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Problem"}
    body = release["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ReleaseCreate"}
    assert set(operation(document, "/profiles/{user_key}", "put")["responses"]) == {"204", "422"}
