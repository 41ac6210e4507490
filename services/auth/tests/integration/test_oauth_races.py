"""The token endpoint's races on the real servers (FerretDB: settled by unique inserts)."""

from __future__ import annotations

import asyncio

import pytest
from token_testing import TokenHarness, oauth_error

from auth.domain.grants import InvalidAccessToken
from auth.domain.token_rules import LOGIN_KIT

pytestmark = pytest.mark.integration
CONTENDERS = 32


async def _revoked(tokens: TokenHarness, access_token: str) -> bool:
    try:
        await tokens.auth.container.access_tokens.verify(access_token, audience=LOGIN_KIT)
    except InvalidAccessToken as exc:
        return exc.reason == "token revoked"
    return False


async def test_rfc6749_4_1_2_32_concurrent_redemptions_one_wins_and_a_replay_revokes(
    tokens: TokenHarness,
) -> None:
    code, verifier = await tokens.code(tokens.grant())

    answers = await asyncio.gather(*(tokens.redeem(code, verifier) for _ in range(CONTENDERS)))

    won = [a for a in answers if a.status_code == 200]
    assert len(won) == 1, [a.text for a in answers if a.status_code != 400]
    for lost in (a for a in answers if a.status_code != 200):
        oauth_error(lost, 400, "invalid_grant")
    assert len(tokens.transfers.records) == 1
    replay = await tokens.redeem(code, verifier)
    oauth_error(replay, 400, "invalid_grant")
    assert await _revoked(tokens, won[0].json()["access_token"])
    refreshed = await tokens.refresh(won[0].json()["refresh_token"])
    oauth_error(refreshed, 400, "invalid_grant")


async def test_rfc9700_2_2_2_32_concurrent_refreshes_one_rotation_and_the_family_revoked(
    tokens: TokenHarness,
) -> None:
    first = await tokens.tokens()

    answers = await asyncio.gather(
        *(tokens.refresh(first["refresh_token"]) for _ in range(CONTENDERS))
    )

    won = [a for a in answers if a.status_code == 200]
    assert len(won) == 1, [a.text for a in answers if a.status_code != 400]
    for lost in (a for a in answers if a.status_code != 200):
        oauth_error(lost, 400, "invalid_grant")
    assert await _revoked(tokens, first["access_token"])
    assert await _revoked(tokens, won[0].json()["access_token"])
    oauth_error(await tokens.refresh(won[0].json()["refresh_token"]), 400, "invalid_grant")
