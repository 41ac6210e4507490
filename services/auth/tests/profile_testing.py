"""Helpers of the profile tests: a logged-in user without the phone login."""

from __future__ import annotations

from auth.domain.identity import new_user_key
from auth_testing import AuthHarness


async def logged_in(auth: AuthHarness, user_key: str | None = None) -> dict[str, str]:
    """Headers carrying the session cookie of a new session for `user_key` (a new user if None)."""
    started = await auth.container.sessions.start(user_key=user_key or new_user_key())
    return {"cookie": f"{auth.settings.session_cookie}={started.token}"}
