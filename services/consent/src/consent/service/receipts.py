"""Consent receipts from the records: the same signed document at the grant and on download."""

from __future__ import annotations

from dataclasses import dataclass

from consent.domain.model import Consent
from consent.domain.receipt import ReceiptFacts, receipt
from consent.service.ports import AppStore
from consent.service.screen_ports import Signer
from shared.scopes import SCOPES


@dataclass(frozen=True)
class Receipts:
    """Signs the receipt of a granted or renewed consent version."""

    apps: AppStore
    signer: Signer
    jurisdiction: str

    async def of(self, consent: Consent) -> str:
        """The signed receipt (a compact JWS) of that consent version."""
        app = await self.apps.get(consent.app_id)
        facts = ReceiptFacts(
            consent_id=consent.consent_id,
            consent_version=consent.version,
            user_key=consent.user_key,
            app_id=consent.app_id,
            app_name=app.name if app else consent.app_id,
            purpose=consent.purpose,
            scopes=consent.scopes,
            terms_version=consent.terms.version,
            terms_url=app.terms_url if app else "",
            privacy_policy_url="",
            recipients=consent.terms.recipients,
            retention_days=consent.terms.retention_days,
            granted_at=int(consent.changed_at.timestamp()),
            jurisdiction=self.jurisdiction,
            issuer=self.signer.issuer,
        )
        words = {s: SCOPES[s].description for s in consent.scopes if s in SCOPES}
        return self.signer.receipt(receipt(facts, describe=words))
