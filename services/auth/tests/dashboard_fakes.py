"""Fakes of the privacy dashboard's ports (consent's and the audit's user views, tokens,
terms links, account deletion), for the handler tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auth.service.dashboard_ports import UpstreamNotFound, UpstreamUnavailable


@dataclass
class FakeUserConsents:
    """Consents per token's user (the token is `token-<user key>`)."""

    by_user: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False

    def _mine(self, token: str) -> list[dict[str, Any]]:
        if self.down:
            raise UpstreamUnavailable("consent did not answer")
        return self.by_user.setdefault(token.removeprefix("token-"), [])

    async def of_user(self, *, token: str) -> list[dict[str, Any]]:
        self.calls.append(("list", token))
        return self._mine(token)

    async def revoke(self, *, token: str, consent_id: str) -> dict[str, Any]:
        self.calls.append(("revoke", token))
        for c in self._mine(token):
            if c["consent_id"] == consent_id:
                c["status"] = "revoked"
                return c
        raise UpstreamNotFound("no such consent")

    async def revoke_all(self, *, token: str) -> list[dict[str, Any]]:
        self.calls.append(("revoke-all", token))
        for c in self._mine(token):
            c["status"] = "revoked"
        return self._mine(token)

    async def receipt(self, *, token: str, consent_id: str) -> bytes:
        if not any(c["consent_id"] == consent_id for c in self._mine(token)):
            raise UpstreamNotFound("no such consent")
        return f"receipt-of-{consent_id}".encode()


@dataclass
class FakeAccessReports:
    """Reports per token's user."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)

    async def report(self, *, token: str) -> dict[str, Any]:
        self.tokens.append(token)
        user = token.removeprefix("token-")
        rows = self.rows.get(user, [])
        return {
            "user": user,
            "transfers": rows,
            "violations": sum(r["verdict"] == "violation" for r in rows),
        }


class FakeUserTokens:
    """`token-<user key>`: the fakes above read the user back from it."""

    def mint(self, *, user_key: str) -> str:
        return f"token-{user_key}"


@dataclass
class FakeTermsLinks:
    urls: dict[str, str] = field(default_factory=dict)

    async def terms_url(self, app_id: str) -> str | None:
        return self.urls.get(app_id)


@dataclass
class FakeAccountDeleter:
    deleted: list[str] = field(default_factory=list)

    async def delete(self, *, user_key: str) -> None:
        self.deleted.append(user_key)


def consent_row(consent_id: str, app_id: str, *, status: str = "active") -> dict[str, Any]:
    """A consent as consent's `/v1/me/consents` answers it."""
    return {
        "consent_id": consent_id,
        "app_id": app_id,
        "app_name": f"App {app_id}",
        "status": status,
        "version": 1,
        "scopes": ["user.info.basic", "video.list"],
        "purpose": "Log in",
        "terms_version": "2026-01",
        "recipients": ["Them Ltd"],
        "retention_days": 30,
        "granted_at": "2026-12-01T10:00:00Z",
    }


def report_row(event_id: str, consent_id: str, *, when: str, verdict: str) -> dict[str, Any]:
    """A transfer row as the audit's `/reports/me` answers it."""
    return {
        "event_id": event_id,
        "released_at": when,
        "fields_released": ["display_name"],
        "scopes_used": ["user.info.basic"],
        "consent_id": consent_id,
        "consent_version": 1,
        "verdict": verdict,
        "violation_reason": "revoked" if verdict == "violation" else None,
    }
