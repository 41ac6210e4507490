"""`auth-admin create-developer` and `rotate-developer-key`, run as the operator runs them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from auth_testing import AuthHarness

pytestmark = pytest.mark.integration
ADMIN = Path(sys.executable).with_name("auth-admin")


async def _admin(auth: AuthHarness, *args: str) -> tuple[int, str, str]:
    env = os.environ | {
        "AUTH_ENVIRONMENT": "development",
        "AUTH_KAFKA_BOOTSTRAP_SERVERS": auth.settings.kafka_bootstrap_servers,
        "AUTH_MONGODB_URL": auth.settings.mongodb_url.get_secret_value(),
        "AUTH_MONGODB_DATABASE": auth.settings.database_name,
    }
    process = await asyncio.create_subprocess_exec(
        str(ADMIN), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_an_operator_creates_a_developer_and_rotates_its_key(auth: AuthHarness) -> None:
    code, out, _ = await _admin(auth, "create-developer", "--name", "Studio Nine")
    assert code == 0
    created = json.loads(out)
    assert created["name"] == "Studio Nine"
    key, developer_id = created["api_key"], created["developer_id"]
    keys = auth.container.runtime.db["developer_keys"]
    assert await keys.find_one({"_id": hashlib.sha256(key.encode()).hexdigest()}) is not None
    assert (await auth.http.get("/v1/apps", headers={"Authorization": f"Bearer {key}"})).json() == {
        "apps": []
    }

    code, out, _ = await _admin(auth, "rotate-developer-key", "--developer", developer_id)
    assert code == 0
    new_key = json.loads(out)["api_key"]
    assert new_key != key
    old = await auth.http.get("/v1/apps", headers={"Authorization": f"Bearer {key}"})
    new = await auth.http.get("/v1/apps", headers={"Authorization": f"Bearer {new_key}"})
    assert (old.status_code, new.status_code) == (401, 200)
    assert await keys.count_documents({"developer_id": developer_id}) == 1


async def test_unknown_developers_and_blank_names_are_refused(auth: AuthHarness) -> None:
    code, _, err = await _admin(auth, "rotate-developer-key", "--developer", "dev_nobody")
    assert (code, err.strip()) == (1, "no such developer")
    code, _, err = await _admin(auth, "create-developer", "--name", "  ")
    assert code == 2
    assert "not blank" in err
    assert await auth.container.runtime.db["developers"].count_documents({}) == 0
