"""Production-shaped CloudEvents (a real day's mix, 20,000 UUID-keyed users) and raw documents."""

from __future__ import annotations

import hashlib
import os
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import bson

from audit.adapters.chunks import completed_nodes
from shared.events import make_event
from shared.events.auth import AppTermsUpdated, TokenIssued, UserLoggedIn
from shared.events.consent import ConsentGranted, ConsentRenewed, ConsentRevoked
from shared.events.envelope import EventData
from shared.events.sound import SoundIngested, SoundUploadStarted
from shared.events.transfer import TransferRecorded
from shared.mongo import Document

USERS = 20_000
APPS = 200
BUSY_USERS = 20
"""A fifth of the events come from these few very active users (their events share
milliseconds: the case that broke verdicts kept as BSON datetimes)."""
SCOPES = ("user.info.basic", "video.list")


@dataclass(frozen=True, slots=True)
class Wire:
    """An event as it goes on the wire: its id, Kafka key and exact bytes."""

    id: str
    key: bytes
    value: bytes


def user_keys(rng: random.Random, count: int = USERS) -> list[str]:
    """Random UUID-length user keys, as auth derives them (36 characters)."""
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def consent_id(user: str, app: str) -> str:
    """The consent of a (user, app), as long as a real one."""
    return f"c_{uuid.uuid5(uuid.NAMESPACE_URL, user + app).hex}"


def _hex(rng: random.Random, n: int = 8) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


def _login(user: str, app: str, rng: random.Random) -> EventData:
    return UserLoggedIn(user_key=user, session_id=f"s_{_hex(rng, 16)}")


def _token(user: str, app: str, rng: random.Random) -> EventData:
    return TokenIssued(
        user_key=user,
        token_id=f"tok_{_hex(rng, 16)}",
        app_id=app,
        pairwise_subject=f"ps_{_hex(rng, 16)}",
        consent_id=consent_id(user, app),
        scopes=SCOPES,
        grant_type="authorization_code",
        expires_at=datetime.now(UTC),
    )


def _granted(user: str, app: str, rng: random.Random) -> EventData:
    return ConsentGranted(
        user_key=user,
        app_id=app,
        consent_id=consent_id(user, app),
        version=1,
        scopes=SCOPES,
        terms_version="t1",
        retention_days=30,
    )


def _renewed(user: str, app: str, rng: random.Random) -> EventData:
    return ConsentRenewed(
        user_key=user,
        app_id=app,
        consent_id=consent_id(user, app),
        version=3,
        scopes=SCOPES,
        terms_version="t2",
        retention_days=30,
    )


def _revoked(user: str, app: str, rng: random.Random) -> EventData:
    return ConsentRevoked(user_key=user, app_id=app, consent_id=consent_id(user, app), version=2)


def _terms(user: str, app: str, rng: random.Random) -> EventData:
    return AppTermsUpdated(
        app_id=app,
        terms_version="t2",
        previous_terms_version="t1",
        terms_url="https://app.example/terms",
        retention_days=30,
    )


def _upload(user: str, app: str, rng: random.Random) -> EventData:
    return SoundUploadStarted(
        user_key=user,
        app_id=app,
        upload_id=f"up_{_hex(rng)}",
        consent_id=consent_id(user, app),
        media_type="audio/flac",
        declared_size=rng.randrange(1, 10_000_000),
    )


def _sound(user: str, app: str, rng: random.Random) -> EventData:
    return SoundIngested(
        user_key=user,
        app_id=app,
        upload_id=f"up_{_hex(rng)}",
        sound_id=f"snd_{_hex(rng)}",
        media_type="audio/flac",
        duration_ms=rng.randrange(1_000, 600_000),
        size_bytes=rng.randrange(1, 10_000_000),
        sha256=_hex(rng, 64),
    )


def _transfer(user: str, app: str, rng: random.Random) -> EventData:
    return TransferRecorded(
        transfer_id=f"tr_{_hex(rng, 12)}",
        app_id=app,
        pairwise_subject=f"ps_{_hex(rng, 16)}",
        user_key=user,
        consent_id=consent_id(user, app),
        consent_version=1,
        terms_version="t1",
        scopes_used=("user.info.basic",),
        fields_released=("display_name", "avatar_url"),
        purpose="login",
        request_id=f"rq_{_hex(rng)}",
        released_at=datetime.now(UTC),
        digest_sha256=_hex(rng, 64),
    )


Maker = Callable[[str, str, random.Random], EventData]
MIX: tuple[tuple[Maker, float], ...] = (
    (_login, 25),
    (_token, 12),
    (_granted, 5),
    (_renewed, 2),
    (_revoked, 2),
    (_terms, 0.1),
    (_upload, 5),
    (_sound, 5),
    (_transfer, 43.9),
)
"""A real day's kinds and their weights (percent): many transfers and logins, consent
grants, renewals and revocations, now and then an app's new terms."""


def make_wire(count: int, *, seed: int = 7) -> list[Wire]:
    """`count` events of a real day's mix from UUID-keyed users, as wire bytes, repeatably."""
    rng = random.Random(seed)
    users = user_keys(rng)
    makers = [maker for maker, _ in MIX]
    weights = [weight for _, weight in MIX]
    out = []
    for maker in rng.choices(makers, weights=weights, k=count):
        busy = rng.random() < 0.2
        user = users[rng.randrange(BUSY_USERS if busy else USERS)]
        app = f"app_{rng.randrange(APPS):04d}"
        event = make_event(maker(user, app, rng), source="/bench")
        out.append(Wire(id=event.id, key=event.key(), value=event.to_bytes()))
    return out


def filler_docs(count: int, *, size: int = 500) -> list[Document]:
    """Plain documents of about `size` bytes of BSON each."""
    pad = "x" * (size - 90)
    return [
        {"_id": str(uuid.uuid4()), "user": str(uuid.UUID(int=i)), "n": i, "payload": pad}
        for i in range(count)
    ]


def entry_like_docs(wire: list[Wire], *, shards: int = 6) -> list[Document]:
    """Documents shaped like ledger entries (same fields, same `data` bytes), one per event."""
    now = datetime.now(UTC)
    docs: list[Document] = []
    for i, item in enumerate(wire):
        index = i // shards
        docs.append(
            {
                "_id": item.id,
                "shard": f"raw/{i % shards}",
                "index": index,
                "offset": index,
                "leaf": hashlib.sha256(item.value).digest(),
                "nodes": [os.urandom(32) for _ in range(completed_nodes(index))],
                "data": item.value,
                "type": "bench.raw.v1",
                "subject": item.key.decode(),
                "time": now,
            }
        )
    return docs


def average_size(docs: list[Any]) -> float:
    """Mean BSON size of the documents."""
    return sum(len(bson.encode(d)) for d in docs) / max(1, len(docs))
