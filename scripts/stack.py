#!/usr/bin/env python3
"""Run the whole stack: with Docker Compose where a Docker engine answers, else natively.

Natively: `scripts/servers.py up` (Kafka, PostgreSQL, FerretDB), then the four services as
processes from the uv environment, each polled on /health/ready; pid files and logs under
.local/run/. `down` stops only what these scripts started. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"auth": 8001, "consent": 8002, "sound": 8003, "audit": 8004}
DEMO_PORT = 8010  # examples/demo-app (Tunetown), registered and started after the services
DEMO_PHONE = "+442079460001"  # seed-demo's first drama number (Ofcom's reserved range)


def run_dir() -> Path:
    path = Path(os.environ.get("STACK_RUN_DIR", ROOT / ".local" / "run"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def port_of(service: str) -> int:
    return int(os.environ.get(f"{service.upper()}_HTTP_PORT", SERVICES[service]))


def servers_env() -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts/servers.py"), "env"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    env: dict[str, str] = {}
    for line in out.splitlines():
        if line.startswith("export ") and "=" in line:
            key, value = line[len("export ") :].split("=", 1)
            env[key] = value.strip("'\"")
    return env


def service_env(service: str, servers: dict[str, str]) -> dict[str, str]:
    prefix = service.upper()
    env = dict(os.environ)
    env.setdefault(f"{prefix}_ENVIRONMENT", "development")
    env.setdefault(f"{prefix}_HTTP_PORT", str(port_of(service)))
    env.setdefault(f"{prefix}_KAFKA_BOOTSTRAP_SERVERS", servers["KAFKA_BOOTSTRAP_SERVERS"])
    env.setdefault(f"{prefix}_MONGODB_URL", servers["MONGODB_URL"])
    # Auth signs the platform's user tokens; the others verify them against its JWKS.
    auth_url = env.get("AUTH_ISSUER") or f"http://127.0.0.1:{port_of('auth')}"
    if service == "auth":
        env.setdefault("AUTH_ISSUER", auth_url)
        # The privacy dashboard reads the audit (server-side, and the browser's Verify).
        env.setdefault("AUTH_AUDIT_URL", f"http://127.0.0.1:{port_of('audit')}")
    else:
        env.setdefault(f"{prefix}_USER_TOKEN_ISSUER", auth_url)
        env.setdefault(f"{prefix}_USER_TOKEN_JWKS_URL", f"{auth_url}/.well-known/jwks.json")
    consent_hand_over(service, env, auth_url=auth_url)
    if service == "audit":  # the privacy dashboard's page, on auth's origin, reads the ledger
        parts = urllib.parse.urlsplit(auth_url)
        env.setdefault("AUDIT_CORS_ORIGINS", f"{parts.scheme}://{parts.netloc}")
    return env


def consent_hand_over(service: str, env: dict[str, str], *, auth_url: str) -> None:
    """Auth's OAuth flow and consent find each other (auth README "OAuth 2.0: authorize"):
    auth sends browsers to consent's screen, calls its check with service tokens and verifies
    its verdicts; consent trusts auth's JWKS for those tokens and returns to auth's callback."""
    consent_url = env.get("CONSENT_ISSUER") or f"http://127.0.0.1:{port_of('consent')}"
    sound_url = f"http://127.0.0.1:{port_of('sound')}"
    # Sound calls auth's resolve and consent's check with its own service tokens (its JWKS).
    sound_caller = {"jwks_url": f"{sound_url}/.well-known/jwks.json"}
    if service == "auth":
        env.setdefault("AUTH_SERVICE_CALLERS", json.dumps({"sound": sound_caller}))
        env.setdefault("AUTH_CONSENT_URL", consent_url)
        env.setdefault("AUTH_CONSENT_ISSUER", consent_url)
        env.setdefault("AUTH_CONSENT_JWKS_URL", f"{consent_url}/.well-known/jwks.json")
    elif service == "consent":
        env.setdefault("CONSENT_ISSUER", consent_url)
        # The stack's own caller of consent's webhook-secret endpoint (the demo app's
        # registration step holds the key; auth does not call it yet).
        if "CONSENT_WEBHOOK_SECRET_CALLER_JWKS" not in env:
            env["CONSENT_WEBHOOK_SECRET_CALLER"] = "stack"
            env["CONSENT_WEBHOOK_SECRET_CALLER_JWKS"] = subprocess.run(
                [
                    str(ROOT / ".venv/bin/demo-app-register"),
                    "caller-jwks",
                    str(run_dir() / "stack-caller.seed"),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        callers = {"auth": {"jwks_url": f"{auth_url}/.well-known/jwks.json"}, "sound": sound_caller}
        env.setdefault("CONSENT_SERVICE_CALLERS", json.dumps(callers))
        env.setdefault("CONSENT_AUTH_CALLBACK_URLS", f"{auth_url}/oauth/consent/callback")
    elif service == "sound":
        env.setdefault("SOUND_PUBLIC_URL", sound_url)
        env.setdefault("SOUND_AUTH_URL", auth_url)
        env.setdefault("SOUND_CONSENT_URL", consent_url)


def alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_service(service: str, servers: dict[str, str]) -> None:
    pid_file, log_file = run_dir() / f"{service}.pid", run_dir() / f"{service}.log"
    if alive(pid_file) and ready(port_of(service)):
        print(f"{service}: already running")
        return
    binary = ROOT / ".venv" / "bin" / service
    if not binary.exists():
        sys.exit(f"{binary} is missing: run `uv sync` (or `make up`) first")
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            [str(binary)],
            cwd=ROOT,
            env=service_env(service, servers),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(str(proc.pid))


def wait_ready(service: str, timeout_s: float = 60.0) -> None:
    deadline, pid_file = time.monotonic() + timeout_s, run_dir() / f"{service}.pid"
    while time.monotonic() < deadline:
        if ready(port_of(service)):
            return
        if alive(pid_file) is None:
            break
        time.sleep(0.2)
    log = (run_dir() / f"{service}.log").read_text(errors="replace").splitlines()[-30:]
    sys.exit(f"{service} did not become ready; last log lines:\n" + "\n".join(log))


def stop_service(service: str, timeout_s: float = 15.0) -> None:
    pid_file = run_dir() / f"{service}.pid"
    pid = alive(pid_file)
    if pid is not None:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while alive(pid_file) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(pid_file):
            os.killpg(pid, signal.SIGKILL)
        print(f"{service}: stopped")
    pid_file.unlink(missing_ok=True)


def docker_answers() -> bool:
    if os.environ.get("STACK_NATIVE") or shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def up(services: list[str], *, with_servers: bool) -> None:
    docker = with_servers and docker_answers()
    if docker:
        subprocess.run(["docker", "compose", "up", "-d", "--build", "--wait"], check=True, cwd=ROOT)
    else:
        if with_servers:
            subprocess.run([sys.executable, str(ROOT / "scripts/servers.py"), "up"], check=True)
        servers = servers_env()
        for service in services:
            start_service(service, servers)
        for service in services:
            wait_ready(service)
    for service in services:
        print(
            f"{service:8} http://127.0.0.1:{port_of(service)}  (docs: /docs, "
            f"events: /asyncapi.json)"
        )
    if "auth" in services:
        seed_demo(docker=docker)
    if not docker and {"auth", "consent"} <= set(services):
        start_demo_app()
    elif docker:
        print(
            f"\nTunetown (the demo app): http://127.0.0.1:{DEMO_PORT}  "
            f"log in with the demo number {DEMO_PHONE}"
        )


def demo_port() -> int:
    return int(os.environ.get("DEMO_HTTP_PORT", DEMO_PORT))


def demo_registered(env_file: Path, auth_url: str) -> bool:
    """A saved registration that `GET /v1/apps/{id}` still answers 200 for."""
    saved = (
        dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
        if env_file.exists()
        else {}
    )
    client_id, key = saved.get("DEMO_CLIENT_ID"), saved.get("DEMO_DEVELOPER_KEY")
    if not (client_id and key):
        return False
    request = urllib.request.Request(
        f"{auth_url}/v1/apps/{urllib.parse.quote(client_id)}",
        headers={"Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_demo_app() -> None:
    """Register Tunetown (or reuse its registration), fetch its webhook secret, start it."""
    auth_url = os.environ.get("AUTH_ISSUER") or f"http://127.0.0.1:{port_of('auth')}"
    consent_url = os.environ.get("CONSENT_ISSUER") or f"http://127.0.0.1:{port_of('consent')}"
    public_url = f"http://127.0.0.1:{demo_port()}"
    env_file = run_dir() / "demo-app.env"
    env = {
        **os.environ,
        "DEMO_AUTH_URL": auth_url,
        "DEMO_CONSENT_URL": consent_url,
        "DEMO_PUBLIC_URL": public_url,
        "DEMO_ENV_FILE": str(env_file),
        "DEMO_CALLER": "stack",
        "DEMO_CALLER_SEED_FILE": str(run_dir() / "stack-caller.seed"),
    }
    if not demo_registered(env_file, auth_url):
        made = subprocess.run(
            [str(ROOT / ".venv/bin/auth-admin"), "create-developer", "--name", "Tunetown demo"],
            cwd=ROOT,
            env=service_env("auth", servers_env()),
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0:
            sys.exit(f"creating the demo developer failed:\n{made.stdout}{made.stderr}")
        env["DEMO_DEVELOPER_KEY"] = json.loads(made.stdout.strip().splitlines()[-1])["api_key"]
    done = subprocess.run(
        [str(ROOT / ".venv/bin/demo-app-register"), "register"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"registering the demo app failed:\n{done.stdout}{done.stderr}")
    print(f"demo-app registered: {done.stdout.strip()}")
    saved = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    pid_file, log_file = run_dir() / "demo-app.pid", run_dir() / "demo-app.log"
    if alive(pid_file):
        stop_service("demo-app")  # it must run with the registration just checked
    app_env = {
        **os.environ,
        **saved,
        "DEMO_ENVIRONMENT": "development",
        "DEMO_HTTP_PORT": str(demo_port()),
        "DEMO_PUBLIC_URL": public_url,
        "DEMO_AUTH_URL": auth_url,
        "DEMO_DATA_DIR": str(run_dir() / "demo-app"),
        "DEMO_SOUND_URL": f"http://127.0.0.1:{port_of('sound')}",
    }
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/demo-app")],
            cwd=ROOT,
            env=app_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(str(proc.pid))
    deadline = time.monotonic() + 60
    while not ready(demo_port()):
        if alive(pid_file) is None or time.monotonic() > deadline:
            tail = log_file.read_text(errors="replace").splitlines()[-30:]
            sys.exit("demo-app did not become ready; last log lines:\n" + "\n".join(tail))
        time.sleep(0.2)
    print(f"\nTunetown (the demo app): {public_url}  log in with the demo number {DEMO_PHONE}")


def seed_demo(*, docker: bool) -> None:
    """Create the demo users (idempotent) and print their numbers and the login page."""
    command = ["auth-admin", "seed-demo"]
    if docker:
        done = subprocess.run(
            ["docker", "compose", "exec", "-T", "auth", *command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    else:
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / command[0]), *command[1:]],
            cwd=ROOT,
            env=service_env("auth", servers_env()),
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        sys.exit(f"seeding the demo users failed:\n{done.stdout}{done.stderr}")
    print(
        f"\nlog in at http://127.0.0.1:{port_of('auth')}/login with a demo number; "
        "the code is at POST /dev/sms/last-code (development only)"
    )
    print(done.stdout.rstrip())


def down(services: list[str], *, with_servers: bool) -> None:
    if with_servers and docker_answers():
        subprocess.run(["docker", "compose", "down"], check=True, cwd=ROOT)
        return
    stop_service("demo-app")
    for service in services:
        stop_service(service)
    if with_servers:
        subprocess.run([sys.executable, str(ROOT / "scripts/servers.py"), "down"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument(
        "--services-only", action="store_true", help="leave Kafka and the database as they are"
    )
    parser.add_argument("--only", nargs="*", choices=list(SERVICES), default=list(SERVICES))
    args = parser.parse_args()
    if args.action == "up":
        up(args.only, with_servers=not args.services_only)
    elif args.action == "down":
        down(args.only, with_servers=not args.services_only)
    else:
        for service in args.only:
            state = "ready" if ready(port_of(service)) else "down"
            print(f"{service:8} http://127.0.0.1:{port_of(service)}  {state}")
        state = "ready" if ready(demo_port()) else "down"
        print(f"demo-app http://127.0.0.1:{demo_port()}  {state}")


if __name__ == "__main__":
    main()
