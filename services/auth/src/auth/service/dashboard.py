"""The privacy dashboard's use cases: what the user's apps got, and the user's controls.

Every call to consent and the audit carries a platform user token minted here for the
session's user (README "Privacy dashboard"): the upstream services decide what the user sees.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from auth.service.apps import AppRegistry
from auth.service.dashboard_ports import (
    AccessReports,
    AccountDeleter,
    TermsLinks,
    UserConsents,
    UserTokens,
)


@dataclass(frozen=True, slots=True)
class Transfer:
    """One release of the user's data to an app, as the audit's report has it."""

    event_id: str
    released_at: str
    fields: tuple[str, ...]
    scopes: tuple[str, ...]
    consent_id: str
    consent_version: int
    verdict: str
    violation_reason: str | None


@dataclass(frozen=True, slots=True)
class ConnectedApp:
    """One consent of the user with its app's terms link and the transfers made under it."""

    consent_id: str
    app_id: str
    app_name: str
    status: str
    scopes: tuple[str, ...]
    purpose: str
    terms_version: str
    terms_url: str | None
    recipients: tuple[str, ...]
    retention_days: int
    granted_at: str
    transfers: tuple[Transfer, ...] = ()

    @property
    def active(self) -> bool:
        """Whether the app may still receive data under this consent."""
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class Overview:
    """The dashboard: the user's apps and the transfers no listed consent explains."""

    user_key: str
    apps: tuple[ConnectedApp, ...]
    other_transfers: tuple[Transfer, ...] = ()
    violations: int = 0


def _transfer(row: dict[str, Any]) -> Transfer:
    return Transfer(
        event_id=str(row["event_id"]),
        released_at=str(row["released_at"]),
        fields=tuple(row.get("fields_released", ())),
        scopes=tuple(row.get("scopes_used", ())),
        consent_id=str(row.get("consent_id", "")),
        consent_version=int(row.get("consent_version", 0)),
        verdict=str(row.get("verdict", "pending")),
        violation_reason=row.get("violation_reason"),
    )


@dataclass
class Dashboard:
    """The dashboard's handlers (consent and the audit behind ports)."""

    consents: UserConsents
    reports: AccessReports
    tokens: UserTokens
    terms: TermsLinks
    accounts: AccountDeleter

    async def overview(self, *, user_key: str) -> Overview:
        """The user's consents joined with the audit's report, newest transfer first."""
        token = self.tokens.mint(user_key=user_key)
        consents, report = await asyncio.gather(
            self.consents.of_user(token=token), self.reports.report(token=token)
        )
        transfers = sorted(
            (_transfer(row) for row in report.get("transfers", ())),
            key=lambda t: t.released_at,
            reverse=True,
        )
        apps = []
        for c in consents:
            app_id = str(c["app_id"])
            apps.append(
                ConnectedApp(
                    consent_id=str(c["consent_id"]),
                    app_id=app_id,
                    app_name=str(c.get("app_name") or app_id),
                    status=str(c["status"]),
                    scopes=tuple(c.get("scopes", ())),
                    purpose=str(c.get("purpose", "")),
                    terms_version=str(c.get("terms_version", "")),
                    terms_url=await self.terms.terms_url(app_id),
                    recipients=tuple(c.get("recipients", ())),
                    retention_days=int(c.get("retention_days", 0)),
                    granted_at=str(c.get("granted_at", "")),
                    transfers=tuple(t for t in transfers if t.consent_id == c["consent_id"]),
                )
            )
        listed = {a.consent_id for a in apps}
        return Overview(
            user_key=user_key,
            apps=tuple(sorted(apps, key=lambda a: (not a.active, a.app_name.lower()))),
            other_transfers=tuple(t for t in transfers if t.consent_id not in listed),
            violations=int(report.get("violations", 0)),
        )

    async def report(self, *, user_key: str) -> dict[str, Any]:
        """The audit's whole access report and every consent, for download as JSON."""
        token = self.tokens.mint(user_key=user_key)
        consents, report = await asyncio.gather(
            self.consents.of_user(token=token), self.reports.report(token=token)
        )
        return {"access_report": report, "consents": consents}

    async def receipt(self, *, user_key: str, consent_id: str) -> bytes:
        """The signed consent receipt (UpstreamNotFound for someone else's consent)."""
        token = self.tokens.mint(user_key=user_key)
        return await self.consents.receipt(token=token, consent_id=consent_id)

    async def revoke(self, *, user_key: str, consent_id: str) -> dict[str, Any]:
        """Revoke one consent of the user; returns once consent made it durable."""
        token = self.tokens.mint(user_key=user_key)
        return await self.consents.revoke(token=token, consent_id=consent_id)

    async def revoke_all(self, *, user_key: str) -> list[dict[str, Any]]:
        """Revoke every consent of the user."""
        return await self.consents.revoke_all(token=self.tokens.mint(user_key=user_key))

    async def delete_account(self, *, user_key: str) -> None:
        """`auth.user_deleted.v1` durably, then every trace in auth (consent and the audit act
        on the event: consent revokes every consent and sends the apps deletion requests)."""
        await self.accounts.delete(user_key=user_key)


@dataclass
class RegistryTerms:
    """The `TermsLinks` port from auth's own app registry."""

    apps: AppRegistry

    async def terms_url(self, app_id: str) -> str | None:
        """The app's current terms URL."""
        app = await self.apps.get(app_id)
        return app.terms.url if app is not None else None
