"""Settings of the audit service, from `AUDIT_*` environment variables."""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from audit.domain.signing import public_keys_from_setting
from shared.settings import UserTokenSettings
from shared.topics import AUTH_EVENTS, CONSENT_EVENTS, SOUND_EVENTS, TRANSFER_EVENTS

_ORIGIN = re.compile(r"(https?)://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
LEDGER_TOPICS = (AUTH_EVENTS, CONSENT_EVENTS, SOUND_EVENTS, TRANSFER_EVENTS)
"""Every domain topic; the audit's own checkpoints and violations are not ledger entries."""
_TOPICS = r"^([A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*)?$"


class AuditSettings(UserTokenSettings):
    """Everything the audit service reads from its environment (user-token settings included)."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore", frozen=True)

    service_name: str = "audit"
    http_port: int = 8004

    log_origin: str = Field(default="kits.audit/ledger", min_length=1, max_length=200)
    # Ed25519 seed, base64 (32 bytes): the current key, which signs new checkpoints. The
    # development default is refused in production.
    signing_key: SecretStr = SecretStr("dev-only-audit-signing-key")
    # Retired signing keys, by their public halves (comma-separated base64 of the raw 32
    # bytes): checkpoints they signed still verify (full audit, replay, /ledger/keys). On a
    # rotation the old current key's public key moves here; drop one only with its checkpoints.
    previous_public_keys: str = ""
    checkpoint_every: int = Field(default=1000, ge=1)
    checkpoint_interval_s: float = Field(default=5.0, gt=0)
    ingest_batch: int = Field(default=1000, ge=1, le=10000)
    ledger_group: str = Field(default="audit.ledger", min_length=1, max_length=200)
    # The topics the ledger mirrors (comma separated): every domain topic. Another list is for
    # a ledger of other topics (tests and drills run one over topics of their own).
    ledger_topics: str = Field(
        default=",".join(LEDGER_TOPICS), pattern=r"^[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*$"
    )

    # A transfer is judged once this long has passed since its time, so consent events from
    # other partitions have arrived (the verdict itself uses event times only).
    judge_grace_s: float = Field(default=2.0, ge=0)
    # The ledger topics a verdict waits for: a transfer is judged once the ledger group has
    # read the user's consent topics and the app's terms topics past its time. Empty (the
    # default): the ledger topic named `consent.events` (terms: `auth.events`), or ending
    # `.consent.events` (`.auth.events`); none if the ledger reads no such topic. A named
    # topic must be one of the ledger topics.
    judge_consent_topics: str = Field(default="", pattern=_TOPICS)
    judge_terms_topics: str = Field(default="", pattern=_TOPICS)
    judge_interval_s: float = Field(default=0.5, gt=0)

    # Auditors read every ledger entry: SHA-256 (hex) of each auditor's bearer token, comma
    # separated; the tokens themselves are never configured or stored. Empty: no auditors.
    auditor_token_sha256: str = Field(default="", pattern=r"^([0-9a-f]{64}(,[0-9a-f]{64})*)?$")

    # Pages on these origins may read the ledger from the browser (the privacy dashboard, on
    # auth's origin): comma-separated exact origins (`scheme://host[:port]`), GET only, with the
    # Authorization header. Empty: no CORS headers, as for any other service.
    cors_origins: str = ""

    @field_validator("previous_public_keys")
    @classmethod
    def _previous_keys_parse(cls, value: str) -> str:
        public_keys_from_setting(value)  # a malformed key is refused at start, not at audit
        return value

    @model_validator(mode="after")
    def _cors_origins_are_origins(self) -> Self:
        for origin in self.cors_origin_list:
            found = _ORIGIN.fullmatch(origin)
            if not found:
                raise ValueError(
                    f"cors_origins: {origin!r} is not an origin (scheme://host[:port], no path, "
                    "no wildcard)"
                )
            if found.group(1) != "https" and self.environment != "development":
                raise ValueError(f"cors_origins: {origin!r} must be https outside development")
        return self

    @model_validator(mode="after")
    def _judge_topics_are_ledger_topics(self) -> Self:
        for name, topics in (
            ("judge_consent_topics", self.judge_consent_topic_names),
            ("judge_terms_topics", self.judge_terms_topic_names),
        ):
            missing = [t for t in topics if t not in self.ledger_topic_names]
            if missing:
                raise ValueError(
                    f"{name}: {', '.join(missing)} not among the ledger topics: the judge would "
                    "wait for a group that never reads them, and every verdict would stay pending"
                )
        return self

    @property
    def judge_consent_topic_names(self) -> tuple[str, ...]:
        """The topics of consent events a verdict waits for."""
        return self._judged(self.judge_consent_topics, CONSENT_EVENTS)

    @property
    def judge_terms_topic_names(self) -> tuple[str, ...]:
        """The topics of apps' terms events a verdict waits for."""
        return self._judged(self.judge_terms_topics, AUTH_EVENTS)

    def _judged(self, setting: str, default: str) -> tuple[str, ...]:
        if setting:
            return tuple(t for t in setting.split(",") if t)
        return tuple(
            t for t in self.ledger_topic_names if t == default or t.endswith(f".{default}")
        )

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        """The origins whose pages may read the ledger from the browser."""
        return tuple(o.strip() for o in self.cors_origins.split(",") if o.strip())

    @property
    def ledger_topic_names(self) -> tuple[str, ...]:
        """The topics the ledger mirrors."""
        return tuple(t for t in self.ledger_topics.split(",") if t)

    @property
    def auditor_digests(self) -> frozenset[str]:
        """The SHA-256 digests of the auditors' bearer tokens."""
        return frozenset(d for d in self.auditor_token_sha256.split(",") if d)
