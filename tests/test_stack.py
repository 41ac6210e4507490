"""The run command's native path: the four services as processes, each ready, then stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey

from kits_testing import Servers
from shared.signing_keys import key_from_seed
from shared.user_tokens import USER_TOKEN_TYP

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
PORTS = {"auth": 18001, "consent": 18002, "sound": 18003, "audit": 18004}
DEMO_PORT = 18010


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
    run = uuid.uuid4().hex[:8]  # fresh databases: the login limits of an earlier run stay behind
    for service, port in PORTS.items():
        prefix = service.upper()
        env[f"{prefix}_HTTP_PORT"] = str(port)
        env[f"{prefix}_KAFKA_BOOTSTRAP_SERVERS"] = servers.kafka
        env[f"{prefix}_MONGODB_URL"] = servers.mongodb_url
        env[f"{prefix}_MONGODB_DATABASE"] = f"t_stack_{service}_{run}"
    env["AUDIT_LEDGER_GROUP"] = f"t-stack-{os.getpid()}"
    env["DEMO_HTTP_PORT"] = str(DEMO_PORT)
    try:
        up = stack("up", env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "demo users" in up.stdout  # seeded, with the numbers to log in with
        assert f"http://127.0.0.1:{PORTS['auth']}/login" in up.stdout
        for service, port in PORTS.items():
            assert f"http://127.0.0.1:{port}" in up.stdout
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as r:
                assert r.status == 200
            lines = (tmp_path / f"{service}.log").read_text().splitlines()
            assert lines, f"{service} logged nothing"
            assert all(json.loads(line)["level"] for line in lines)  # structured JSON lines
        seeded = up.stdout.split("demo users", 1)[1].splitlines()[1].split()
        a_real_login_opens_the_audit_report(
            auth=PORTS["auth"], audit=PORTS["audit"], phone=seeded[0]
        )
        consent_trusts_auths_service_tokens(consent=PORTS["consent"])
        the_dashboard_on_auths_origin_may_read_the_ledger(auth=PORTS["auth"], audit=PORTS["audit"])
        the_demo_app_is_registered_and_running(up.stdout, tmp_path)
        again = stack("up", env)  # a second `make up` reuses the registration
        assert again.returncode == 0, again.stdout + again.stderr
        assert '"reused": true' in again.stdout
        the_demo_app_is_registered_and_running(again.stdout, tmp_path)
    finally:
        down = stack("down", env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not list(tmp_path.glob("*.pid"))
    for port in [*PORTS.values(), DEMO_PORT]:
        with pytest.raises(urllib.error.URLError, match="refused"):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2)


def the_demo_app_is_registered_and_running(stdout: str, run_dir: Path) -> None:
    """`make up` registered Tunetown with auth (credentials kept 0600), fetched its webhook
    secret from consent, started it, and printed its URL and a demo number; its login goes to
    auth's authorize endpoint, which knows the client and its redirect URI."""
    demo = f"http://127.0.0.1:{DEMO_PORT}"
    assert f"Tunetown (the demo app): {demo}" in stdout
    assert "log in with the demo number +44" in stdout
    env_file = run_dir / "demo-app.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    saved = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert saved["DEMO_CLIENT_SECRET"].startswith("kcs_")
    assert saved["DEMO_WEBHOOK_SECRET"].startswith("whsec_")
    with urllib.request.urlopen(f"{demo}/health/ready", timeout=5) as r:
        assert r.status == 200

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as to_auth:
        opener.open(f"{demo}/login", timeout=5)
    authorize = to_auth.value.headers["location"]
    assert authorize.startswith(f"http://127.0.0.1:{PORTS['auth']}/oauth/authorize?")
    assert "code_challenge_method=S256" in authorize
    with pytest.raises(urllib.error.HTTPError) as to_login:
        opener.open(authorize, timeout=5)
    assert to_login.value.code == 303  # a known client and redirect URI: on to the login page
    assert to_login.value.headers["location"].startswith("/login?next=")


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read()), response.headers


def _report_status(audit: int, token: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{audit}/reports/me", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def the_dashboard_on_auths_origin_may_read_the_ledger(*, auth: int, audit: int) -> None:
    """`make up` sets AUDIT_CORS_ORIGINS to auth's origin: its pages' preflight passes."""
    origin = f"http://127.0.0.1:{auth}"
    preflight = urllib.request.Request(
        f"http://127.0.0.1:{audit}/ledger/entries/e1",
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    with urllib.request.urlopen(preflight, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Access-Control-Allow-Origin"] == origin


def a_real_login_opens_the_audit_report(*, auth: int, audit: int, phone: str) -> None:
    """Cross-service: a seeded demo user logs in with the printed number, and `make up` wires
    audit to auth's JWKS, so the login's token is accepted (200) and a forged or expired one
    is not (401)."""
    base = f"http://127.0.0.1:{auth}"
    started, _ = _post(f"{base}/v1/login/start", {"phone": phone})
    code, _ = _post(f"{base}/dev/sms/last-code", {"phone": phone})
    session, headers = _post(
        f"{base}/v1/login/verify", {"challenge": started["challenge"], "code": code["code"]}
    )
    cookie = headers["set-cookie"].split(";")[0]
    request = urllib.request.Request(f"{base}/v1/me/profile", headers={"cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["display_name"]  # the seeded profile
    token, _ = _post(f"{base}/v1/session/token", {}, headers={"cookie": cookie})
    assert _report_status(audit, token["access_token"]) == 200
    forged = OKPKey.generate_key("Ed25519", parameters={"kid": "forged"})
    assert _report_status(audit, _token(forged, sub=session["user_key"], iss=base)) == 401
    # Signed with auth's own (development) key, but expired: still refused.
    real = key_from_seed("dev-only-user-token-key-1")
    expired = _token(real, sub=session["user_key"], iss=base, age_s=3600)
    assert _report_status(audit, expired) == 401


def consent_trusts_auths_service_tokens(*, consent: int) -> None:
    """The stack configures consent with auth's JWKS as its caller `auth` (the OAuth flow's
    consent check): a token signed with auth's (development) key is accepted, a forged one not."""
    from auth.adapters.jose_service_tokens import ServiceTokenSigner

    body = {"user_key": "uk_stack", "app_id": "app_stack", "scopes": ["video.list"]}
    url = f"http://127.0.0.1:{consent}/v1/checks"
    signer = ServiceTokenSigner(seeds="dev-only-user-token-key-1")
    answer, _ = _post(url, body, headers=signer.bearer("consent"))
    assert answer["allowed"] is False
    forged = ServiceTokenSigner(seeds="dev-only-forged-key")
    with pytest.raises(urllib.error.HTTPError, match="401"):
        _post(url, body, headers=forged.bearer("consent"))


def _token(key: OKPKey, *, sub: str, iss: str, age_s: int = 0) -> str:
    now = int(time.time()) - age_s
    claims = {"iss": iss, "aud": "kits-platform", "sub": sub, "iat": now, "exp": now + 300}
    header = {"alg": "Ed25519", "typ": USER_TOKEN_TYP, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=["Ed25519"])
