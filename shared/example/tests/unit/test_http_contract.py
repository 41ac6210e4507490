"""The example's OpenAPI says what its routes really answer (built without connecting)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/profiles/+4915112345678", {"username": "ada_l"}),
        ("/profiles/uk_1", {"username": "+49 151 1234 5678"}),
        ("/profiles/uk_1", {"username": "ada_l", "phone": "x"}),
    ],
)
async def test_a_phone_shaped_or_unknown_value_is_a_422_before_any_handler(
    path: str, body: dict[str, str]
) -> None:
    app = create_app(ExampleSettings(environment="development"))  # not started: no servers
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ex"
    ) as http:
        response = await http.put(path, json=body)
    assert response.status_code == 422
    assert "+49" not in response.text  # the refused value is not echoed back (shared.http)
    [error] = response.json()["detail"]
    assert set(error) == {"type", "loc", "msg"}
    assert error["loc"][0] in {"path", "body"}


async def test_a_422_keeps_list_positions_as_numbers() -> None:
    app = create_app(ExampleSettings(environment="development"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ex"
    ) as http:
        response = await http.put("/profiles/uk_1", json=["not", "an", "object"])
        scopes = await http.post("/profiles/uk_1/releases", json={"scopes": ["Not A Scope"]})
    assert response.status_code == 422
    locations = [e["loc"] for e in scopes.json()["detail"]]
    assert ["body", "scopes", 0] in locations
