"""Sharing out: an app with `sound.share` lists the user's sounds and fetches one.

Each fetch is a transfer: `transfer.recorded.v1` with the SHA-256 of exactly the bytes that
will be sent (the whole sound, or the requested range, hashed by streaming it once before) is
published and acknowledged first; if that fails the answer is a 503 and no byte is sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.events import make_event, new_event_id
from shared.events.transfer import TransferRecorded
from shared.kafka.publisher import PublishFailed
from sound.domain.uploads import Refused
from sound.service.access import authorize
from sound.service.ports import ConsentCheck, Grant, TokenResolver

SCOPE = "sound.share"
PAGE_MAX = 50


class SoundStore(Protocol):
    def sounds_of(self, user_key: str, after: str, limit: int) -> AsyncIterator[dict[str, Any]]: ...
    async def sound(self, sound_id: str) -> dict[str, Any] | None: ...
    async def blob(self, sha256: str) -> dict[str, Any] | None: ...
    def blob_pieces(
        self, blob: dict[str, Any], start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]: ...


class Publisher(Protocol):
    async def publish(self, event: Any) -> Any: ...


@dataclass(frozen=True)
class Fetch:
    """What the route streams after the transfer was recorded."""

    pieces: AsyncIterator[bytes]
    start: int
    end: int  # exclusive
    size: int
    media_type: str
    sha256: str
    partial: bool


@dataclass
class Sharing:
    store: SoundStore
    tokens: TokenResolver
    consent: ConsentCheck
    publisher: Publisher
    source: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    async def authorize(self, token: str | None) -> Grant:
        return await authorize(tokens=self.tokens, consent=self.consent, token=token, scope=SCOPE)

    async def list(self, token: str | None, cursor: str | None, count: int) -> dict[str, Any]:
        """One page of the user's sounds (oldest id first) and the cursor of the next."""
        grant = await self.authorize(token)
        after = _cursor(cursor)
        limit = max(1, min(count, PAGE_MAX))
        page = [d async for d in self.store.sounds_of(grant.user_key, after, limit + 1)]
        more = len(page) > limit
        page = page[:limit]
        items = [
            {k: d[k] for k in ("_id", "title", "media_type", "duration_ms", "size_bytes", "sha256")}
            for d in page
        ]
        for item in items:
            item["sound_id"] = item.pop("_id")
        next_cursor = _encode(page[-1]["_id"]) if more and page else None
        return {"sounds": items, "cursor": next_cursor, "has_more": more}

    async def fetch(self, token: str | None, sound_id: str, range_header: str | None) -> Fetch:
        """The transfer recorded and acknowledged, then the bytes to send."""
        grant = await self.authorize(token)
        doc = await self.store.sound(sound_id)
        if doc is None or doc["user_key"] != grant.user_key:
            raise Refused("not_found", "no such sound for this user")
        blob = await self.store.blob(doc["sha256"])
        if blob is None:
            raise Refused("not_found", "the sound's content is gone")
        size = blob["size"]
        start, end, partial = _range(range_header, size)
        if partial:
            digest = hashlib.sha256()
            async for piece in self.store.blob_pieces(blob, start, end):
                digest.update(piece)
            sha = digest.hexdigest()
        else:
            sha = doc["sha256"]
        record = TransferRecorded(
            transfer_id=new_event_id(),
            app_id=grant.client_id,
            pairwise_subject=grant.pairwise_subject or grant.user_key,
            user_key=grant.user_key,
            consent_id=grant.consent_id or "unknown",
            consent_version=max(1, grant.consent_version),
            terms_version=grant.terms_version or "unknown",
            scopes_used=(SCOPE,),
            fields_released=("sound.audio",),
            purpose=grant.purpose or "sound kit",
            request_id=new_event_id(),
            released_at=self.clock(),
            digest_sha256=sha,
        )
        try:
            await self.publisher.publish(make_event(record, source=self.source))
        except PublishFailed as exc:
            raise Refused("service_unavailable", "the transfer could not be recorded") from exc
        return Fetch(
            pieces=self.store.blob_pieces(blob, start, end),
            start=start,
            end=end,
            size=size,
            media_type=doc["media_type"],
            sha256=sha,
            partial=partial,
        )


def _range(header: str | None, size: int) -> tuple[int, int, bool]:
    """(start, end exclusive, partial) of a single `bytes=a-b`, `bytes=a-` or `bytes=-n`."""
    if not header:
        return 0, size, False
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec or "-" not in spec:
        raise Refused("range_not_satisfiable", "one range of the form bytes=a-b")
    first, _, last = spec.strip().partition("-")
    try:
        if not first:
            n = int(last)
            start, end = max(0, size - n), size
        else:
            start = int(first)
            end = min(size, int(last) + 1) if last else size
    except ValueError as exc:
        raise Refused("range_not_satisfiable", "one range of the form bytes=a-b") from exc
    if start >= size or start >= end:
        raise Refused("range_not_satisfiable", f"the sound has {size} bytes")
    return start, end, True


def _encode(value: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": value}).encode()).decode().rstrip("=")


def _cursor(cursor: str | None) -> str:
    if not cursor:
        return ""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
    except (ValueError, KeyError, TypeError) as exc:
        raise Refused("invalid_params", "the cursor is not one this service gave") from exc
    if not isinstance(after, str):
        raise Refused("invalid_params", "the cursor is not one this service gave")
    return after
