"""Consent receipts: the Kantara Consent Receipt v1.1 / ISO/IEC TS 27560 fields of one grant.

A receipt says who consented (the user key), to which controller (the app), for which purpose
and scopes (the personal data categories), on which legal basis, with which recipients and
retention, when, and which consent version it is. Consent signs it (JWS) so the user can prove
it later; `adapters/jose_handover.py` signs, the JWKS endpoint publishes the key.
"""

from __future__ import annotations

from dataclasses import dataclass

SPEC_VERSION = "KI-CR-v1.1.0"
LEGAL_BASIS = "consent (GDPR Art. 6(1)(a)); withdrawable at any time"


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """What one consent version recorded, as shown to the user."""

    consent_id: str
    consent_version: int
    user_key: str
    app_id: str
    app_name: str
    purpose: str
    scopes: tuple[str, ...]
    terms_version: str
    terms_url: str
    privacy_policy_url: str
    recipients: tuple[str, ...]
    retention_days: int
    granted_at: int  # seconds since the epoch
    jurisdiction: str
    issuer: str


def receipt(facts: ReceiptFacts, *, describe: dict[str, str]) -> dict[str, object]:
    """The receipt document (Kantara CR v1.1 field names, plus the platform's own ids)."""
    return {
        "version": SPEC_VERSION,
        "jurisdiction": facts.jurisdiction,
        "consentTimestamp": facts.granted_at,
        "collectionMethod": "consent screen of the platform, explicit allow",
        "consentReceiptID": f"{facts.consent_id}.v{facts.consent_version}",
        "language": "en",
        "piiPrincipalId": facts.user_key,
        "piiControllers": [
            {
                "piiController": facts.app_name,
                "controllerId": facts.app_id,
                "privacyPolicy": facts.privacy_policy_url,
            }
        ],
        "policyUrl": facts.terms_url,
        "services": [
            {
                "service": facts.app_name,
                "purposes": [
                    {
                        "purpose": facts.purpose,
                        "consentType": "EXPLICIT",
                        "purposeCategory": ["Login Kit / Sound Kit data sharing"],
                        "piiCategory": [describe.get(s, s) for s in facts.scopes],
                        "scopes": list(facts.scopes),
                        "primaryPurpose": True,
                        "termination": f"{facts.retention_days} days after the data is received, "
                        "or on revocation, whichever comes first",
                        "thirdPartyDisclosure": bool(facts.recipients),
                        "thirdPartyName": list(facts.recipients),
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "legalBasis": LEGAL_BASIS,
        "consentId": facts.consent_id,
        "consentVersion": facts.consent_version,
        "termsVersion": facts.terms_version,
        "retentionDays": facts.retention_days,
        "issuer": facts.issuer,
    }
