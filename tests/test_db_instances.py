"""`scripts/servers.py db`: a named PostgreSQL + FerretDB pair of a test's own, each half stopped
and started alone, its data kept, the main pair untouched."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from kits_testing import Servers

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
INSTANCE = "t-db-instance"


def servers_py(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts/servers.py"), *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=ROOT,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_named_pair_stops_and_starts_one_half_keeps_its_data_and_spares_the_main_pair(
    servers: Servers,
) -> None:
    pg_port, port = free_port(), free_port()
    ports = ["--pg-port", str(pg_port), "--port", str(port)]
    up = servers_py("db", "up", "--instance", INSTANCE, *ports)
    assert up.returncode == 0, up.stdout + up.stderr
    client: MongoClient[dict[str, Any]] = MongoClient(
        f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=3000
    )
    name = f"t_{uuid.uuid4().hex[:10]}"
    try:
        client[name]["c"].insert_one({"_id": 1})
        assert "postgres-t-db-instance" in servers_py("status").stdout

        half = servers_py("db", "down", "--instance", INSTANCE, "--only", "postgres")
        assert half.returncode == 0, half.stdout + half.stderr
        status = servers_py("db", "status", "--instance", INSTANCE)
        assert status.returncode == 1
        assert "postgres-t-db-instance: stopped" in status.stdout
        ferretdb = [line for line in status.stdout.splitlines() if line.startswith("ferretdb-")]
        assert ferretdb
        assert "stopped" not in ferretdb[0]  # its process runs on (its ping needs PostgreSQL)
        with pytest.raises(PyMongoError):  # FerretDB is there, its PostgreSQL is not
            client[name]["c"].insert_one({"_id": 2})

        again = servers_py("db", "up", "--instance", INSTANCE, "--only", "postgres")
        assert again.returncode == 0, again.stdout + again.stderr
        assert client[name]["c"].find_one({"_id": 1}) == {"_id": 1}  # the data was kept

        crash = servers_py("db", "down", "--instance", INSTANCE, "--only", "postgres", "--kill")
        assert crash.returncode == 0, crash.stdout + crash.stderr
        after = servers_py("db", "up", "--instance", INSTANCE, "--only", "postgres")
        assert after.returncode == 0, after.stdout + after.stderr  # recovers after a SIGKILL
        assert client[name]["c"].find_one({"_id": 1}) == {"_id": 1}
        client.drop_database(name)
    finally:
        client.close()
        down = servers_py("db", "down", "--instance", INSTANCE)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not list((ROOT / ".local/db" / INSTANCE).glob("*.pid"))
    main: MongoClient[dict[str, Any]] = MongoClient(servers.mongodb_url)
    assert main.admin.command("ping")["ok"] == 1.0  # the shared pair still answers
    main.close()
