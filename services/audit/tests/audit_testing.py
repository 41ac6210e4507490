"""Audit test helpers: settings on the real servers, user tokens, the harness type."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import OKPKey

from audit.bootstrap import Container
from audit.config import AuditSettings
from audit.domain.integrity import Anchor, Finding, ShardAudit
from audit.domain.ledger import Entry, EntryBatch
from kits_testing import Servers
from shared.events import CloudEvent, EventData
from shared.user_tokens import USER_TOKEN_TYP

ISSUER, AUDIENCE = "https://auth.test", "kits-platform"
AUDITOR_TOKEN = f"auditor-{uuid.uuid4().hex}"
AS_AUDITOR = {"Authorization": f"Bearer {AUDITOR_TOKEN}"}
USER_TOKEN_KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "test-user-token-key"})


def user_token(user_key: str, *, key: OKPKey = USER_TOKEN_KEY, **claims: Any) -> str:
    """A user session token as auth will sign it (signed here with the test key)."""
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user_key,
        "iat": now,
        "exp": now + 300,
        **claims,
    }
    header = {"alg": "Ed25519", "typ": USER_TOKEN_TYP, "kid": key.kid}
    return jwt.encode(header, payload, key, algorithms=["Ed25519"])


def new_user() -> str:
    return f"uk_{uuid.uuid4().hex[:16]}"


@dataclass
class AuditHarness:
    """The audit app running against the real broker and database, and an HTTP client."""

    container: Container
    http: httpx.AsyncClient

    async def entry_stored(self, event_id: str) -> bool:
        return await self.container.ledger.entry(event_id) is not None


def audit_settings(servers: Servers, **overrides: Any) -> AuditSettings:
    values: dict[str, Any] = {
        "environment": "development",
        "kafka_bootstrap_servers": servers.kafka,
        "mongodb_url": servers.mongodb_url,
        "mongodb_database": f"t_audit_{uuid.uuid4().hex[:10]}",
        "ledger_group": f"t-audit-{uuid.uuid4().hex[:10]}",
        "log_origin": f"kits.audit/t-{uuid.uuid4().hex[:10]}",
        "checkpoint_every": 20,
        "checkpoint_interval_s": 0.5,
        "judge_grace_s": 0.5,
        "judge_interval_s": 0.1,
        "auditor_token_sha256": hashlib.sha256(AUDITOR_TOKEN.encode()).hexdigest(),
        "user_token_issuer": ISSUER,
        "user_token_audience": AUDIENCE,
        "user_token_jwks": json.dumps({"keys": [USER_TOKEN_KEY.as_dict(private=False)]}),
        **overrides,
    }
    if "ledger_topics" in overrides:  # a ledger over a test's own topics waits for its own
        topics = overrides["ledger_topics"].split(",")
        values.setdefault("judge_consent_topics", ",".join(t for t in topics if "consent" in t))
        values.setdefault("judge_terms_topics", ",".join(t for t in topics if "auth" in t))
    return AuditSettings(**values)


def at(seconds_ago: float = 0.0) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds_ago)


Publish = Callable[[str, EventData], Awaitable[CloudEvent[Any]]]


@dataclass
class Alone:
    """An audit instance whose ledger mirrors topics of its own, from their beginning."""

    harness: AuditHarness
    topics: dict[str, str]  # "auth" | "consent" | "sound" | "transfer" -> its own topic
    publish: Publish


def audit_shard(shard: str, entries: Iterable[Entry], anchors: Sequence[Anchor]) -> list[Finding]:
    """The full audit of one shard's entries, in memory (a test helper): its findings."""
    audit, stored = ShardAudit(shard, anchors), list(entries)
    if stored:
        audit.feed(entry_batch(stored))
    return audit.finish()


def entry_batch(entries: Sequence[Entry]) -> EntryBatch:
    """These entries (non-empty, one shard) as one batch, as a store would read them."""
    return EntryBatch(
        shard=entries[0].shard,
        event_ids=[e.event_id for e in entries],
        positions=[(e.index, e.offset) for e in entries],
        hashes=[e.leaf + b"".join(e.nodes) for e in entries],
        data=[e.data for e in entries],
    )


def node_of(entry: Entry, level: int) -> bytes:
    """The perfect node at `level` that this entry's append completed (level 0: its leaf)."""
    return entry.leaf if level == 0 else entry.nodes[level - 1]
