"""Who may call the Sound Kit now: an active access token with the scope (auth's resolve) and
an active consent that covers it (consent's check), both asked on every call."""

from __future__ import annotations

from sound.domain.uploads import Refused
from sound.service.ports import ConsentCheck, Grant, TokenResolver, Unavailable


async def authorize(
    *, tokens: TokenResolver, consent: ConsentCheck, token: str | None, scope: str
) -> Grant:
    """The caller's grant when its token and consent allow `scope` now, else Refused."""
    if not token:
        raise Refused("access_token_invalid", "send the access token as a Bearer token")
    try:
        grant = await tokens.resolve(token)
    except Unavailable as exc:
        raise Refused("service_unavailable", "auth cannot tell now; retry") from exc
    if isinstance(grant, str):
        raise Refused("access_token_invalid", f"the access token is not active ({grant})")
    if scope not in grant.scopes:
        raise Refused("scope_not_authorized", f"the token was not granted {scope}")
    try:
        allowed, reason, _ = await consent.check(
            user_key=grant.user_key, app_id=grant.client_id, scopes=(scope,)
        )
    except Unavailable as exc:
        raise Refused("service_unavailable", "consent cannot tell now; retry") from exc
    if not allowed:
        raise Refused("consent_required", f"no active consent covers {scope} ({reason})")
    return grant
