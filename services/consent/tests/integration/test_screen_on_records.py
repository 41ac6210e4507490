"""The consent screen on the service as deployed: an allow is a real grant the check then
allows, a deny records nothing, and the verdict and receipt verify with consent's JWKS."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from consent.adapters.jose_handover import verify_receipt
from consent_testing import ISSUER, USER_TOKEN_KEY, ConsentHarness, as_user, new_app, new_user
from screen_testing import Flow, challenge

pytestmark = pytest.mark.integration
CALLBACK = "http://127.0.0.1:8001/oauth/consent/callback"  # the default auth callback


def flow(user: str, app: str) -> Flow:
    return challenge(
        key=USER_TOKEN_KEY,
        user_key=user,
        app_id=app,
        scopes=("user.info.basic",),
        iss=ISSUER,
        return_to=CALLBACK,
    )


async def answer(consent: ConsentHarness, made: Flow, decision: str) -> Any:
    return await consent.http.post(
        "/consent",
        data={"challenge": made.token, "decision": decision},
        headers={"cookie": f"{consent.settings.flow_cookie}={made.nonce}"},
    )


async def test_allow_on_the_screen_is_a_grant_the_check_allows(consent: ConsentHarness) -> None:
    user, app = new_user(), new_app()
    await consent.register(app)
    made = flow(user, app)
    shown = await consent.http.get(
        "/consent",
        params={"challenge": made.token},
        headers={"cookie": f"{consent.settings.flow_cookie}={made.nonce}"},
    )
    assert shown.status_code == 200, shown.text
    assert f"App {app}" in shown.text
    assert "analytics.example" in shown.text  # the declared recipient
    allowed = await answer(consent, made, "allow")
    assert allowed.status_code == 303, allowed.text
    jwks = (await consent.http.get("/.well-known/jwks.json")).json()
    verdict = parse_qs(urlsplit(allowed.headers["location"]).query)["verdict"][0]
    claims = jwt.decode(verdict, KeySet.import_key_set(cast(Any, jwks)), algorithms=["Ed25519"])
    assert claims.claims["decision"] == "allow"
    check = await consent.check(user, app)
    assert check["allowed"] is True
    assert check["consent_id"] == claims.claims["consent_id"]
    receipt = verify_receipt(allowed.headers["consent-receipt"], jwks)
    assert receipt["consentId"] == check["consent_id"]
    assert receipt["termsVersion"] == "t1"
    assert receipt["piiControllers"][0]["piiController"] == f"App {app}"
    purpose = receipt["services"][0]["purposes"][0]
    assert purpose["thirdPartyName"] == ["analytics.example"]
    assert purpose["scopes"] == ["user.info.basic"]
    again = await consent.http.get(
        f"/v1/me/consents/{check['consent_id']}/receipt", headers=as_user(user)
    )
    assert again.status_code == 200
    assert again.text == allowed.headers["consent-receipt"]  # the same signed document
    other = await consent.http.get(
        f"/v1/me/consents/{check['consent_id']}/receipt", headers=as_user(new_user())
    )
    assert other.status_code == 404


async def test_deny_on_the_screen_records_nothing(consent: ConsentHarness) -> None:
    user, app = new_user(), new_app()
    await consent.register(app)
    denied = await answer(consent, flow(user, app), "deny")
    assert denied.status_code == 303
    assert (await consent.check(user, app))["allowed"] is False
