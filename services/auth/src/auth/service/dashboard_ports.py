"""Ports of the privacy dashboard: the consent service's and the audit's user views.

Each call carries the user's own platform token (minted by auth for that user), never a
service's or an auditor's, so consent and the audit show exactly what the user may see.
"""

from __future__ import annotations

from typing import Any, Protocol


class UpstreamUnavailable(Exception):
    """Consent or the audit did not answer usably (timeout, 5xx, wrong shape): try again."""


class UpstreamNotFound(Exception):
    """No such consent of this user (unknown or someone else's: the same answer)."""


class UserConsents(Protocol):
    """The consent service's `/v1/me/consents…` routes, with the user's token."""

    async def of_user(self, *, token: str) -> list[dict[str, Any]]:
        """Every consent of the user (revoked ones too), as consent's `ConsentPublic`."""
        ...

    async def revoke(self, *, token: str, consent_id: str) -> dict[str, Any]:
        """Revoke one; returns once durable. UpstreamNotFound for an unknown or foreign id."""
        ...

    async def revoke_all(self, *, token: str) -> list[dict[str, Any]]:
        """Revoke every consent of the user; the consents now revoked."""
        ...

    async def receipt(self, *, token: str, consent_id: str) -> bytes:
        """The signed receipt (compact JWS) of the consent's latest grant."""
        ...


class AccessReports(Protocol):
    """The audit's `GET /reports/me`, with the user's token."""

    async def report(self, *, token: str) -> dict[str, Any]:
        """The user's access report (`user`, `transfers`, `violations`)."""
        ...


class UserTokens(Protocol):
    """Mints the platform user token the dashboard's calls carry."""

    def mint(self, *, user_key: str) -> str:
        """A short-lived token whose `sub` is the user key."""
        ...


class TermsLinks(Protocol):
    """The terms URL of an app, from auth's own registry."""

    async def terms_url(self, app_id: str) -> str | None:
        """The app's current terms URL, or None for an unknown app."""
        ...


class AccountDeleter(Protocol):
    """Account deletion (auth's own `Accounts`): the event first, then every trace in auth."""

    async def delete(self, *, user_key: str) -> None:
        """Publish `auth.user_deleted.v1` durably (else PublishFailed), then delete."""
        ...
