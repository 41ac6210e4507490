"""docker-compose.yml and the service Dockerfiles, checked without Docker.

The compose file goes through the Compose Specification's reference loader (compose-go, the
library Docker Compose itself uses), built once and cached by `scripts/tools.py compose-loader`.
The loader prints the normalised project (`--format json`) and exits 0, or names the schema
error and exits 1. It resolves relative paths against its *working directory* (not the file's
folder, unlike `docker compose`), so it is always run from the compose file's folder. It checks
the schema only: cross-references (a `depends_on` naming a service that does not exist) pass,
so those are checked here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.topics import DOMAIN_PARTITIONS, DOMAIN_TOPICS, FOREVER

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
TOOLS = REPO / "scripts" / "tools.py"

APPS = {"auth": 8001, "consent": 8002, "sound": 8003, "audit": 8004}
INFRA = ("kafka", "mongodb", "kafka-init")
DEMO = ("demo-app-setup", "demo-app")  # examples/demo-app and its one-shot registration step
TOPICS = ("auth.events", "consent.events", "sound.events", "transfer.events", "audit.events")

# A cold `go install` of the loader took ~16 s here; allow for a slow network or machine.
pytestmark = pytest.mark.timeout(900)

Project = dict[str, Any]


# ---- the loader ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loader() -> Path:
    """The compose loader binary, built on first use and cached under .local/cache/bin/."""
    done = subprocess.run(
        [sys.executable, str(TOOLS), "compose-loader"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0 and shutil.which("go") is None:
        pytest.fail(f"the compose loader is not built and `go` is missing:\n{done.stderr}")
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.is_file(), done.stdout
    assert os.access(path, os.X_OK)
    return path


def run_loader(loader: Path, compose_file: Path) -> subprocess.CompletedProcess[str]:
    """Run the loader on one file, from its folder, without the caller's COMPOSE_* variables."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        [str(loader), "--format", "json", compose_file.name],
        cwd=compose_file.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def project(loader: Path) -> Project:
    """The normalised project the loader prints for docker-compose.yml."""
    done = run_loader(loader, COMPOSE_FILE)
    assert done.returncode == 0, done.stderr
    loaded: Project = json.loads(done.stdout)
    return loaded


def service(project: Project, name: str) -> dict[str, Any]:
    services: dict[str, dict[str, Any]] = project["services"]
    assert name in services, f"service {name!r} is missing"
    return services[name]


def command_text(svc: dict[str, Any]) -> str:
    """Entrypoint and command of a service as one string (the loader keeps them as lists)."""
    parts = [*(svc.get("entrypoint") or []), *(svc.get("command") or [])]
    return " ".join(parts)


# ---- the compose file ------------------------------------------------------------------------


def test_loader_accepts_the_compose_file(loader: Path) -> None:
    done = run_loader(loader, COMPOSE_FILE)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_all_services_exist(project: Project) -> None:
    assert set(project["services"]) == {*INFRA, *APPS, *DEMO}


def test_depends_on_names_only_defined_services(project: Project) -> None:
    # The loader does not check this cross-reference; docker compose would refuse to start.
    defined = set(project["services"])
    for name, svc in project["services"].items():
        assert set(svc.get("depends_on") or {}) <= defined, name


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_service_has_a_readiness_healthcheck(project: Project, name: str) -> None:
    check = service(project, name).get("healthcheck")
    assert check, f"{name} has no healthcheck"
    assert not check.get("disable", False)
    test = check["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    assert f"127.0.0.1:{APPS[name]}/health/ready" in " ".join(test)


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_service_waits_for_kafka_mongodb_and_topics(project: Project, name: str) -> None:
    depends_on = service(project, name)["depends_on"]
    assert depends_on["kafka"]["condition"] == "service_healthy"
    assert depends_on["mongodb"]["condition"] == "service_healthy"
    assert depends_on["kafka-init"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_service_is_built_from_its_dockerfile(project: Project, name: str) -> None:
    build = service(project, name)["build"]
    assert Path(build["context"]) == REPO
    assert build["dockerfile"] == f"services/{name}/Dockerfile"
    assert (REPO / build["dockerfile"]).is_file()


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_service_is_published_on_loopback(project: Project, name: str) -> None:
    ports = service(project, name)["ports"]
    published = [(p["host_ip"], str(p["published"]), p["target"]) for p in ports]
    assert published[0] == ("127.0.0.1", str(APPS[name]), APPS[name])
    # Tunetown shares consent's network (its deletion webhook at 127.0.0.1:8010 is reachable
    # from consent): consent publishes its port too.
    extra = [("127.0.0.1", "8010", 8010)] if name == "consent" else []
    assert published[1:] == extra


def test_the_demo_app_is_reachable_from_consent_at_its_registered_address(
    project: Project,
) -> None:
    demo = service(project, "demo-app")
    assert demo["network_mode"] == "service:consent"
    assert demo["environment"]["DEMO_PUBLIC_URL"] == "http://127.0.0.1:8010"
    assert "ports" not in demo


def test_every_published_port_is_on_loopback(project: Project) -> None:
    for name, svc in project["services"].items():
        for port in svc.get("ports") or []:
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port} beyond loopback"


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_service_environment(project: Project, name: str) -> None:
    env = service(project, name)["environment"]
    prefix = name.upper() + "_"
    assert env[prefix + "ENVIRONMENT"] == "development"
    assert env[prefix + "HTTP_HOST"] == "0.0.0.0"
    assert env[prefix + "HTTP_PORT"] == str(APPS[name])
    assert env[prefix + "KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    url = env[prefix + "MONGODB_URL"]
    assert url.startswith("mongodb://mongodb:27017/")
    assert "replicaSet=rs0" in url or "directConnection=true" in url
    # Durability of the topics the service creates (its dead-letter topics): one broker here.
    assert env[prefix + "KAFKA_REPLICATION_FACTOR"] == "1"
    assert env[prefix + "KAFKA_MIN_INSYNC_REPLICAS"] == "1"


def test_the_audit_lets_the_dashboard_on_auths_origin_read_the_ledger(project: Project) -> None:
    env = service(project, "audit")["environment"]
    auth = service(project, "auth")["ports"][0]
    assert env["AUDIT_CORS_ORIGINS"] == f"http://{auth['host_ip']}:{auth['published']}"
    assert env["AUDIT_CORS_ORIGINS"] == env["AUDIT_USER_TOKEN_ISSUER"]  # auth, as browsers see it


def test_kafka_is_a_single_kraft_node_with_a_healthcheck(project: Project) -> None:
    kafka = service(project, "kafka")
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka"
    assert tuple(int(x) for x in tag.split(".")[:3]) >= (4, 1, 0)
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    test = " ".join(kafka["healthcheck"]["test"])
    assert re.search(r"kafka-(topics|broker-api-versions)\.sh", test)


def test_mongodb_is_a_replica_set_primary_when_healthy(project: Project) -> None:
    mongodb = service(project, "mongodb")
    assert mongodb["image"] == "mongo:8"
    assert "--replSet rs0" in command_text(mongodb)
    test = " ".join(mongodb["healthcheck"]["test"])
    assert "mongosh" in test
    assert "rs.initiate" in test
    assert "isWritablePrimary" in test


def test_kafka_init_creates_the_domain_topics(project: Project) -> None:
    init = service(project, "kafka-init")
    assert init["image"] == service(project, "kafka")["image"]
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert init.get("restart", "no") == "no"
    script = command_text(init)
    assert "kafka-topics.sh" in script
    assert "--create" in script
    for topic in TOPICS:
        assert re.search(rf"(?<![\w.]){re.escape(topic)}(?![\w.])", script), topic
    assert f"--partitions {DOMAIN_PARTITIONS}" in script
    assert f"retention.ms={FOREVER}" in script
    # The same durability as the services create their own topics with.
    assert "--replication-factor 1" in script
    assert "min.insync.replicas=1" in script
    # Same topics, partitions and retention as the services' own list (shared/topics.py).
    assert tuple(spec.name for spec in DOMAIN_TOPICS) == TOPICS
    assert {(spec.partitions, spec.retention_ms) for spec in DOMAIN_TOPICS} == {
        (DOMAIN_PARTITIONS, FOREVER)
    }


def test_kafka_and_mongodb_keep_data_in_named_volumes(project: Project) -> None:
    assert {"kafka-data", "mongodb-data"} <= set(project["volumes"])
    mounts = {
        name: {(v["type"], v.get("source"), v["target"]) for v in service(project, name)["volumes"]}
        for name in ("kafka", "mongodb")
    }
    assert ("volume", "kafka-data", "/var/lib/kafka/data") in mounts["kafka"]
    assert ("volume", "mongodb-data", "/data/db") in mounts["mongodb"]


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        pytest.param(
            lambda text: text.replace(
                "condition: service_completed_successfully", "condition: service_finished", 1
            ),
            "condition value must be one of",
            id="invalid-depends-on-condition",
        ),
        pytest.param(
            lambda text: text + "\nbogus-top-level: {}\n",
            "additional properties 'bogus-top-level' not allowed",
            id="unknown-top-level-key",
        ),
    ],
)
def test_loader_rejects_a_schema_error(
    loader: Path, tmp_path: Path, mutate: Callable[[str], str], error: str
) -> None:
    original = COMPOSE_FILE.read_text()
    broken = mutate(original)
    assert broken != original
    copy = tmp_path / "docker-compose.yml"
    copy.write_text(broken)
    done = run_loader(loader, copy)
    assert done.returncode == 1
    assert error in done.stderr
    assert done.stdout == ""


# ---- the Dockerfiles -------------------------------------------------------------------------


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        result.append((keyword.upper(), args.strip()))
    assert not pending, f"{dockerfile} ends inside a continued line"
    return result


@pytest.mark.parametrize("name", sorted(APPS))
def test_dockerfile(name: str) -> None:
    dockerfile = REPO / "services" / name / "Dockerfile"
    assert dockerfile.is_file()
    steps = instructions(dockerfile)

    def args_of(keyword: str) -> list[str]:
        return [args for kw, args in steps if kw == keyword]

    stages = args_of("FROM")
    assert stages, "no FROM"
    assert all(stage.split()[0] == "python:3.11-slim" for stage in stages)
    assert any(
        args.startswith("--from=ghcr.io/astral-sh/uv:0.13 ") and "/uv" in args
        for args in args_of("COPY")
    )

    syncs = [args for args in args_of("RUN") if "uv sync" in args]
    assert syncs, "no uv sync"
    for args in syncs:
        assert "--frozen" in args.split()
        assert "--no-dev" in args.split()
        assert f"--package kits-{name}" in args

    # The runtime stage runs as a named, unprivileged user.
    users = args_of("USER")
    assert users, "no USER: the service would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert any("useradd" in args for args in args_of("RUN"))

    assert str(APPS[name]) in args_of("EXPOSE")[-1].split()
    env = " ".join(args_of("ENV"))
    assert f"{name.upper()}_HTTP_HOST=0.0.0.0" in env
    assert "/.venv/bin" in env
    healthcheck = args_of("HEALTHCHECK")[-1]
    assert "urllib" in healthcheck
    assert "/health/ready" in healthcheck
    assert json.loads(args_of("CMD")[-1]) == [name]


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    patterns = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".local"} <= patterns
    assert any("__pycache__" in p for p in patterns)


def test_auth_and_consent_are_wired_for_the_oauth_hand_over(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both services accept the compose environment, and each names the other as it must:
    auth's callback is consent's allowed return, consent trusts auth's JWKS for auth's service
    tokens, and auth verifies verdicts from consent's issuer and keys."""
    from auth.config import AuthSettings
    from consent.config import ConsentSettings

    for name in ("auth", "consent"):
        for key, value in service(project, name)["environment"].items():
            monkeypatch.setenv(key, value)
    auth, consent = AuthSettings(), ConsentSettings()
    assert f"{auth.issuer}/oauth/consent/callback" in consent.callback_urls
    assert consent.service_callers["auth"].jwks_url == "http://auth:8001/.well-known/jwks.json"
    assert consent.user_token_issuer == auth.issuer
    assert auth.consent_issuer == consent.issuer
    assert auth.consent_url == consent.issuer  # the browser reaches the screen there
    assert auth.consent_check_url == "http://consent:8002"
    assert auth.consent_jwks_url == "http://consent:8002/.well-known/jwks.json"
    assert auth.flow_cookie == consent.flow_cookie
