"""The run command's environment: what each service is told about the others."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SERVERS = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092", "MONGODB_URL": "mongodb://127.0.0.1/"}


def _stack() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "scripts" / "stack.py"
    spec = importlib.util.spec_from_file_location("stack_script", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_audit_lets_the_dashboard_on_auths_origin_read_the_ledger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = _stack()
    monkeypatch.delenv("AUTH_ISSUER", raising=False)
    monkeypatch.delenv("AUDIT_CORS_ORIGINS", raising=False)
    assert stack.service_env("audit", SERVERS)["AUDIT_CORS_ORIGINS"] == "http://127.0.0.1:8001"
    assert "AUDIT_CORS_ORIGINS" not in stack.service_env("consent", SERVERS)
    monkeypatch.setenv("AUTH_ISSUER", "https://login.example/kits")
    assert stack.service_env("audit", SERVERS)["AUDIT_CORS_ORIGINS"] == "https://login.example"
