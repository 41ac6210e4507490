"""The run command's native path: the four services as processes, each ready, then stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from kits_testing import Servers

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
PORTS = {"auth": 18001, "consent": 18002, "sound": 18003, "audit": 18004}


def stack(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts/stack.py"), action, "--services-only"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=ROOT,
    )


def test_the_services_start_as_processes_answer_ready_and_stop(
    servers: Servers, tmp_path: Path
) -> None:
    env = {**os.environ, "STACK_RUN_DIR": str(tmp_path), "STACK_NATIVE": "1"}
    for service, port in PORTS.items():
        prefix = service.upper()
        env[f"{prefix}_HTTP_PORT"] = str(port)
        env[f"{prefix}_KAFKA_BOOTSTRAP_SERVERS"] = servers.kafka
        env[f"{prefix}_MONGODB_URL"] = servers.mongodb_url
        env[f"{prefix}_MONGODB_DATABASE"] = f"t_stack_{service}"
    env["AUDIT_LEDGER_GROUP"] = f"t-stack-{os.getpid()}"
    try:
        up = stack("up", env)
        assert up.returncode == 0, up.stdout + up.stderr
        for service, port in PORTS.items():
            assert f"http://127.0.0.1:{port}" in up.stdout
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as r:
                assert r.status == 200
            lines = (tmp_path / f"{service}.log").read_text().splitlines()
            assert lines, f"{service} logged nothing"
            assert all(json.loads(line)["level"] for line in lines)  # structured JSON lines
    finally:
        down = stack("down", env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not list(tmp_path.glob("*.pid"))
    for port in PORTS.values():
        with pytest.raises(urllib.error.URLError, match="refused"):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2)
