"""`demo-app-register`: register Tunetown with the platform, as `make up` and compose do.

  demo-app-register caller-jwks SEED_FILE   the public JWKS of the stack's service-caller key
  demo-app-register register                register (or reuse) the app and fetch its webhook
                                            secret once consent knows the app; writes
                                            DEMO_ENV_FILE (mode 0600)
Environment: DEMO_AUTH_URL, DEMO_CONSENT_URL, DEMO_PUBLIC_URL, DEMO_DEVELOPER_KEY (from
`auth-admin create-developer`; only needed when no registration can be reused),
DEMO_CALLER_SEED_FILE, DEMO_CALLER (the name consent's webhook-secret endpoint trusts).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from joserfc import jwt
from joserfc.jwk import OKPKey

KNOWN_WAIT_S = 60.0  # how long `register` waits for consent to take in the registration
SCOPES = ["user.info.basic", "user.info.profile", "video.list", "sound.upload"]


def caller_key(seed_file: Path, dev_seed: str = "") -> OKPKey:
    """The stack's Ed25519 caller key, from a 32-byte seed file (made once, mode 0600), or in
    compose from a `dev-only-` seed phrase (DEMO_CALLER_SEED; development only)."""
    if dev_seed:
        if not dev_seed.startswith("dev-only-"):
            raise SystemExit("DEMO_CALLER_SEED must start with dev-only- (development only)")
        return _key(hashlib.sha256(dev_seed.encode()).digest())
    if not seed_file.exists():
        seed_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(seed_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(os.urandom(32))
    return _key(seed_file.read_bytes())


def _key(seed: bytes) -> OKPKey:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    key = OKPKey.import_key(pem)
    key.ensure_kid()
    return key


def service_token(key: OKPKey, caller: str) -> str:
    now = int(time.time())
    return jwt.encode(
        {"alg": "Ed25519", "typ": "kits-service+jwt", "kid": key.kid},
        {"iss": caller, "sub": caller, "aud": "consent", "iat": now, "exp": now + 60},
        key,
        algorithms=["Ed25519"],
    )


def app_body(public_url: str, webhook_base: str = "") -> dict[str, Any]:
    return {
        "name": "Tunetown",
        "client_type": "confidential",
        "redirect_uris": [f"{public_url}/callback"],
        "allowed_scopes": SCOPES,
        "terms": {
            "terms_url": f"{public_url}/#terms",
            "terms_version": "v1",
            "recipients": ["Tunetown"],
            "retention_days": 30,
        },
        "privacy_policy_url": f"{public_url}/#privacy",
        "deletion_webhook_url": f"{webhook_base or public_url}/webhooks/platform",
    }


def read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def write_env(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"{k}={v}\n" for k, v in values.items()))
    os.replace(tmp, path)


def developer_key_file(env: dict[str, str]) -> str:
    """The api key in `auth-admin create-developer`'s JSON output, kept in DEMO_DEVELOPER_FILE."""
    path = Path(env.get("DEMO_DEVELOPER_FILE", ""))
    if not env.get("DEMO_DEVELOPER_FILE") or not path.is_file():
        return ""
    lines = path.read_text().strip().splitlines()
    return str(json.loads(lines[-1])["api_key"]) if lines else ""


def register(env: dict[str, str]) -> dict[str, str]:
    """The app's DEMO_* credentials: reused while `GET /v1/apps/{id}` answers 200."""
    auth, consent = env["DEMO_AUTH_URL"].rstrip("/"), env["DEMO_CONSENT_URL"].rstrip("/")
    public = env.get("DEMO_PUBLIC_URL", "http://127.0.0.1:8010")
    path = Path(env["DEMO_ENV_FILE"])
    saved = read_env(path)
    with httpx.Client(timeout=10) as http:
        key = saved.get("DEMO_DEVELOPER_KEY") or env.get("DEMO_DEVELOPER_KEY", "")
        client_id, secret = saved.get("DEMO_CLIENT_ID", ""), saved.get("DEMO_CLIENT_SECRET", "")
        reuse = (
            bool(client_id and key)
            and http.get(
                f"{auth}/v1/apps/{client_id}", headers={"Authorization": f"Bearer {key}"}
            ).status_code
            == 200
        )
        if not reuse:
            key = env.get("DEMO_DEVELOPER_KEY", "") or developer_key_file(env)
            if not key:
                raise SystemExit("no reusable registration and no DEMO_DEVELOPER_KEY")
            r = http.post(
                f"{auth}/v1/apps",
                json=app_body(public, env.get("DEMO_WEBHOOK_BASE_URL", "")),
                headers={"Authorization": f"Bearer {key}"},
            )
            if r.status_code != 201:
                raise SystemExit(f"registering Tunetown failed: {r.status_code} {r.text}")
            created = r.json()
            client_id, secret = created["app"]["client_id"], created["client_secret"]
        caller = caller_key(
            Path(env.get("DEMO_CALLER_SEED_FILE", "")), env.get("DEMO_CALLER_SEED", "")
        )
        # Consent learns of the app from auth's `auth.app_registered.v1`, a moment after the
        # registration answered; until it has, its screen refuses the app. Wait for `known`.
        deadline = time.monotonic() + KNOWN_WAIT_S
        while True:
            r = http.post(
                f"{consent}/internal/apps/{client_id}/webhook-secret",
                headers={
                    "Authorization": "Bearer "
                    + service_token(caller, env.get("DEMO_CALLER", "stack"))
                },
            )
            if r.status_code != 200:
                raise SystemExit(f"fetching the webhook secret failed: {r.status_code} {r.text}")
            if r.json().get("known", True):
                break
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"consent has not taken in Tunetown's registration after {KNOWN_WAIT_S:.0f} s"
                    " (is its consumer of auth.events running?)"
                )
            time.sleep(0.2)
        values = {
            "DEMO_CLIENT_ID": client_id,
            "DEMO_CLIENT_SECRET": secret,
            "DEMO_WEBHOOK_SECRET": r.json()["secret"],
            "DEMO_DEVELOPER_KEY": key,
            "DEMO_REUSED": "1" if reuse else "0",
        }
    write_env(path, values)
    return values


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "caller-jwks":
        key = caller_key(Path(sys.argv[2]), os.environ.get("DEMO_CALLER_SEED", ""))
        sys.stdout.write(json.dumps({"keys": [key.as_dict(private=False)]}) + "\n")
    elif len(sys.argv) == 2 and sys.argv[1] == "register":
        values = register(dict(os.environ))
        sys.stdout.write(
            json.dumps(
                {"client_id": values["DEMO_CLIENT_ID"], "reused": values["DEMO_REUSED"] == "1"}
            )
            + "\n"
        )
    else:
        raise SystemExit(__doc__)
