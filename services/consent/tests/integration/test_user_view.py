"""The user's view: their consents with app, scopes, status and full history; revoke all;
an account deletion revokes everything and asks each app to delete."""

from __future__ import annotations

import pytest

from consent_testing import ConsentHarness, as_user, new_app, new_user, user_deleted
from kits_testing import eventually

pytestmark = pytest.mark.integration


async def grant(consent: ConsentHarness, user: str, app: str, purpose: str = "p") -> str:
    outcome = await consent.container.consents.grant(
        user_key=user, app_id=app, scopes=("video.list",), purpose=purpose, pairwise_subject="ps_v"
    )
    assert outcome.consent is not None
    return outcome.consent.consent_id


async def test_the_user_sees_every_consent_with_its_history(consent: ConsentHarness) -> None:
    user, other, a, b = new_user(), new_user(), new_app(), new_app()
    await consent.register(a)
    await consent.register(b)
    first = await grant(consent, user, a)
    await consent.http.post(f"/v1/me/consents/{first}/revoke", headers=as_user(user))
    second = await grant(consent, user, a, purpose="again")
    await grant(consent, user, b)
    await grant(consent, user, b, purpose="renewed")  # a renewal: version 2
    await grant(consent, other, a)

    listed = await consent.http.get("/v1/me/consents", headers=as_user(user))
    assert listed.status_code == 200
    rows = {c["consent_id"]: c for c in listed.json()["consents"]}
    assert len(rows) == 3  # the revoked one, its successor, and b's; never the other user's
    assert rows[first]["status"] == "revoked"
    assert [h["change"] for h in rows[first]["history"]] == ["granted", "revoked"]
    assert rows[second]["purpose"] == "again"
    b_row = next(r for r in rows.values() if r["app_id"] == b)
    assert (b_row["version"], b_row["app_name"], b_row["scopes"]) == (2, f"App {b}", ["video.list"])
    assert [h["change"] for h in b_row["history"]] == ["granted", "renewed"]
    assert (b_row["terms_version"], b_row["recipients"], b_row["retention_days"]) == (
        "t1",
        ["analytics.example"],
        30,
    )

    everything = await consent.http.post("/v1/me/consents/revoke-all", headers=as_user(user))
    assert everything.status_code == 200
    assert sorted(r["consent_id"] for r in everything.json()["revoked"]) == sorted(
        [second, b_row["consent_id"]]
    )
    after = await consent.http.get("/v1/me/consents", headers=as_user(user))
    assert {c["status"] for c in after.json()["consents"]} == {"revoked"}
    assert (await consent.check(other, a, ("video.list",)))["allowed"] is True  # not theirs


async def test_an_account_deletion_revokes_everything_and_asks_for_deletion(
    consent: ConsentHarness,
) -> None:
    user, a, b = new_user(), new_app(), new_app()
    await consent.register(a)
    await consent.register(b)
    ids = [await grant(consent, user, app) for app in (a, b)]
    await consent.send_auth(user_deleted(user))
    await consent.send_auth(user_deleted(user))  # a second event: still one effect each

    async def refused() -> bool:
        answers = [await consent.check(user, app, ("video.list",)) for app in (a, b)]
        return all(x["reason"] == "revoked" for x in answers)

    await eventually(refused)
    history = await consent.http.get(f"/v1/me/consents/{ids[0]}", headers=as_user(user))
    assert [h["reason"] for h in history.json()["history"]] == ["", "user_deleted"]
    requests = consent.deletions.requests
    assert sorted(requests) == sorted((cid, 2) for cid in ids)
    assert {r["reason"] for r in requests.values()} == {"user_deleted"}
    assert {r["app_id"] for r in requests.values()} == {a, b}
