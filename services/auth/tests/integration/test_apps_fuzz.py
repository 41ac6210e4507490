"""Mutated registrations and updates on the real servers: every answer is a 2xx or a 4xx with a
reason, never a 5xx (a seeded random walk over the valid body, so a failure is reproducible)."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from apps_testing import VALID_APP, new_developer, register

from auth_testing import AuthHarness

pytestmark = pytest.mark.integration

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    1e308,
    "",
    " ",
    "\u0000",
    "\u202e",
    "é" * 300,
    "x" * 3000,
    "https://",
    "http://[::1",
    "https://a.example/#",
    "javascript:alert(1)",
    [],
    {},
    [None],
    ["user.info.basic"] * 30,
    {"terms_url": 1},
    "+49 151 1234 5678",
    "https://t.example/%00",
]


def _mutate(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    mutated = copy.deepcopy(body)
    for _ in range(rng.randint(1, 3)):
        target = mutated
        if rng.random() < 0.3 and isinstance(mutated.get("terms"), dict):
            target = mutated["terms"]
        if not target:
            break
        key = rng.choice(sorted(target))
        action = rng.random()
        if action < 0.2:
            del target[key]
        elif action < 0.8:
            target[key] = rng.choice(ODD_VALUES)
        else:
            target[rng.choice(["extra", "client_secret", "developer_id", "version"])] = "x"
    return mutated


async def test_mutated_registrations_get_a_reasoned_4xx_or_succeed(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    rng = random.Random(20261202)
    seen: set[int] = set()
    for round_ in range(250):
        body = _mutate(VALID_APP, rng)
        response = await auth.http.post("/v1/apps", json=body, headers=dev)
        seen.add(response.status_code)
        assert response.status_code in (201, 400, 422), (round_, body, response.text)
        if response.status_code != 201:
            assert response.json()["detail"], round_
        else:
            assert "1234 5678" not in response.text  # a phone-shaped value is never kept
    assert {201, 400, 422} <= seen


async def test_mutated_updates_get_a_reasoned_4xx_or_succeed(auth: AuthHarness) -> None:
    dev = await new_developer(auth)
    client_id = (await register(auth, dev))["app"]["client_id"]
    rng = random.Random(7)
    patchable = {k: VALID_APP[k] for k in ("name", "redirect_uris", "allowed_scopes")}
    for round_ in range(150):
        patch = _mutate(patchable, rng)
        terms = _mutate(VALID_APP["terms"] | {"terms_version": f"v{round_}"}, rng)
        answers = [
            await auth.http.patch(f"/v1/apps/{client_id}", json=patch, headers=dev),
            await auth.http.put(f"/v1/apps/{client_id}/terms", json=terms, headers=dev),
        ]
        for answer in answers:
            assert answer.status_code in (200, 400, 422), (round_, answer.text)
            if answer.status_code != 200:
                assert answer.json()["detail"], round_
    app = await auth.container.apps.get(client_id)
    assert app is not None
