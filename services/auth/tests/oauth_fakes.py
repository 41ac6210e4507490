"""Fakes of the OAuth server's own ports, for unit tests (never for the broker or database)."""

from __future__ import annotations

import secrets

from auth.domain.grants import ConsentAnswer, Grant


class FakeConsentCheck:
    """An in-memory ConsentCheck: the test sets the answer per (user key, app id)."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], ConsentAnswer] = {}
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []

    async def check(self, *, user_key: str, app_id: str, scopes: tuple[str, ...]) -> ConsentAnswer:
        """The answer the test set for (user, app), else `no_consent`."""
        self.calls.append((user_key, app_id, scopes))
        return self.answers.get((user_key, app_id), ConsentAnswer(False, "no_consent"))


class FakeAuthorizationCodes:
    """OAuth authorize (H2): an in-memory AuthorizationCodes; keeps what each code was issued
    for (the real store is H1's)."""

    def __init__(self) -> None:
        self.issued: dict[str, tuple[Grant, str, str]] = {}

    async def issue(self, *, grant: Grant, redirect_uri: str, code_challenge: str) -> str:
        """A new random code bound to the grant, redirect URI and challenge."""
        code = secrets.token_urlsafe(32)
        self.issued[code] = (grant, redirect_uri, code_challenge)
        return code
