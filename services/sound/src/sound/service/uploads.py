"""The upload use cases: init, chunk, status, complete, and the sweep.

Every call presents the app's access token: auth's resolve must call it active, for the Sound
Kit audience, with `sound.upload`; consent's check must allow it (init, every chunk and
completion: once a revoke returned, the next call is refused). Validation runs in a background
task whose decoding is in a thread pool; its outcome is written to the upload document before
its event is published, and the sweep publishes any outcome whose publish did not complete
(same event id: consumers dedupe by id).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from shared.events import make_event, new_event_id
from shared.events.sound import SoundIngested, SoundRejected, SoundUploadStarted
from shared.kafka.publisher import PublishFailed
from sound.domain.uploads import Limits, Plan, Refused, check_plan, chunk_of, stored_ranges
from sound.service.access import authorize
from sound.service.ports import (
    AudioRejected,
    AudioValidator,
    ConsentCheck,
    Grant,
    TokenResolver,
)

log = logging.getLogger(__name__)
SCOPE = "sound.upload"


class Store(Protocol):
    async def insert_upload(self, doc: dict[str, Any]) -> None: ...
    async def upload(self, upload_id: str) -> dict[str, Any] | None: ...
    async def update_upload(self, upload_id: str, fields: dict[str, Any]) -> None: ...
    async def delete_upload(self, upload_id: str) -> None: ...
    def uploads(self) -> AsyncIterator[dict[str, Any]]: ...
    async def claim_completion(self, upload_id: str, at: datetime) -> bool: ...
    async def put_part(
        self, upload_id: str, index: int, body: AsyncIterator[bytes], *, length: int
    ) -> bool: ...
    async def parts(self, upload_id: str) -> dict[int, dict[str, Any]]: ...
    async def assemble(self, upload_id: str, count: int, into: Any) -> tuple[str, int]: ...
    async def drop_parts(self, upload_id: str, *, keep_files: bool = False) -> None: ...
    async def store_blob(self, upload_id: str, sha256: str, size: int) -> tuple[Any, bool]: ...
    async def insert_sound(self, doc: dict[str, Any]) -> None: ...


class Publisher(Protocol):
    async def publish(self, event: Any) -> Any: ...


@dataclass
class Uploads:
    """The Sound Kit's upload side."""

    store: Store
    tokens: TokenResolver
    consent: ConsentCheck
    validator: AudioValidator
    publisher: Publisher
    limits: Limits
    source: str
    upload_url: Callable[[str], str]
    abandon_after_s: float = 3600.0
    keep_outcome_s: float = 7 * 86400.0
    temp_dir: str | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    stuck_after_s: float = 900.0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _running: set[str] = field(default_factory=set)

    async def authorize(self, token: str | None) -> Grant:
        """The caller's grant when its token and consent allow an upload call now."""
        return await authorize(tokens=self.tokens, consent=self.consent, token=token, scope=SCOPE)

    async def init(self, token: str | None, plan: Plan, title: str) -> dict[str, Any]:
        """Open an upload session: its id, URL and chunking."""
        grant = await self.authorize(token)
        fmt = check_plan(plan, self.limits)
        upload_id, now = uuid.uuid4().hex, self.clock()
        doc = {
            "_id": upload_id,
            "app_id": grant.client_id,
            "user_key": grant.user_key,
            "consent_id": grant.consent_id,
            "title": title,
            "media_type": plan.media_type,
            "format": fmt,
            "total_size": plan.total_size,
            "chunk_size": plan.chunk_size,
            "chunk_count": plan.chunk_count,
            "state": "receiving",
            "created": now,
            "touched": now,
        }
        await self.store.insert_upload(doc)
        event = SoundUploadStarted(
            user_key=grant.user_key,
            app_id=grant.client_id,
            upload_id=upload_id,
            consent_id=grant.consent_id or "unknown",
            media_type=plan.media_type[:100],
            declared_size=plan.total_size,
        )
        try:
            await self.publisher.publish(make_event(event, source=self.source))
        except Exception as exc:
            await self.store.delete_upload(upload_id)
            raise Refused("service_unavailable", "the upload could not be recorded; retry") from exc
        return {
            "upload_id": upload_id,
            "upload_url": self.upload_url(upload_id),
            "chunk_size": plan.chunk_size,
            "chunk_count": plan.chunk_count,
        }

    async def _owned(self, grant: Grant, upload_id: str) -> dict[str, Any]:
        return self._mine(grant, await self.store.upload(upload_id))

    @staticmethod
    def _mine(grant: Grant, doc: dict[str, Any] | None) -> dict[str, Any]:
        if doc is None or (doc["app_id"], doc["user_key"]) != (grant.client_id, grant.user_key):
            raise Refused("not_found", "no such upload for this app and user")
        return doc

    @staticmethod
    def _plan(doc: dict[str, Any]) -> Plan:
        return Plan(doc["total_size"], doc["chunk_size"], doc["chunk_count"], doc["media_type"])

    async def put_chunk(
        self,
        token: str | None,
        upload_id: str,
        *,
        content_range: str | None,
        content_length: int | None,
        body: AsyncIterator[bytes],
    ) -> dict[str, Any]:
        """Store one chunk (idempotent by range); the stored ranges after it."""
        # The session is read while the caller is authorized (it is used only once they are).
        grant, found = await asyncio.gather(self.authorize(token), self.store.upload(upload_id))
        doc = self._mine(grant, found)
        if doc["state"] != "receiving":
            raise Refused("upload_closed", f"the upload is {doc['state']}; no more chunks")
        plan = self._plan(doc)
        index = chunk_of(plan, content_range, content_length)
        first, last = plan.chunk_bounds(index)
        created = await self.store.put_part(upload_id, index, body, length=last - first + 1)
        _, parts = await asyncio.gather(
            self.store.update_upload(upload_id, {"touched": self.clock()}),
            self.store.parts(upload_id),
        )
        return {
            "upload_id": upload_id,
            "chunk": index,
            "repeated": not created,
            "stored_ranges": stored_ranges(plan, set(parts)),
            "complete": len(parts) == plan.chunk_count,
        }

    async def status(self, token: str | None, upload_id: str) -> dict[str, Any]:
        """Where the upload is: receiving (with ranges), validating, ingested or rejected."""
        grant = await self.authorize(token)
        return await self._status(await self._owned(grant, upload_id))

    async def _status(self, doc: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = {"upload_id": doc["_id"], "state": doc["state"]}
        if doc["state"] == "receiving":
            parts = await self.store.parts(doc["_id"])
            answer["stored_ranges"] = stored_ranges(self._plan(doc), set(parts))
            answer["total_size"] = doc["total_size"]
        elif doc["state"] == "ingested":
            answer.update({k: doc[k] for k in ("sound_id", "duration_ms", "format", "sha256")})
        elif doc["state"] == "rejected":
            answer.update({"reason_code": doc["reason_code"], "reason": doc["reason"]})
        return answer

    async def complete(self, token: str | None, upload_id: str) -> dict[str, Any]:
        """Close the upload and start validation (once; a repeat answers the status)."""
        # The session is read while the caller is authorized (it is used only once they are).
        grant, found = await asyncio.gather(self.authorize(token), self.store.upload(upload_id))
        doc = self._mine(grant, found)
        if doc["state"] != "receiving":
            return await self._status(doc)
        plan = self._plan(doc)
        parts = await self.store.parts(upload_id)
        if len(parts) != plan.chunk_count:
            missing = plan.chunk_count - len(parts)
            raise Refused("incomplete_upload", f"{missing} chunk(s) are not stored yet")
        if not await self.store.claim_completion(upload_id, self.clock()):
            return await self._status(doc)
        await self.store.update_upload(
            upload_id, {"state": "validating", "validating_since": self.clock()}
        )
        self._start_validation(doc)
        return {"upload_id": upload_id, "state": "validating"}

    def _start_validation(self, doc: dict[str, Any]) -> None:
        task = asyncio.create_task(self._validate(doc), name=f"validate:{doc['_id']}")
        self._tasks.add(task)
        self._running.add(doc["_id"])
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._running.discard(doc["_id"]))

    async def _validate(self, doc: dict[str, Any]) -> None:
        upload_id = doc["_id"]
        try:
            outcome = await self._judge(doc)
        except Exception:
            log.exception("validation failed", extra={"upload_id": upload_id})
            outcome = {
                "state": "rejected",
                "reason_code": "internal_error",
                "reason": "the upload could not be validated; upload it again",
            }
        outcome["event_id"] = new_event_id()
        outcome["published"] = False
        keep = bool(outcome.pop("owns_blob", False))
        await self.store.update_upload(upload_id, outcome)
        await self.store.drop_parts(upload_id, keep_files=keep)
        await self._announce({**doc, **outcome})

    async def _judge(self, doc: dict[str, Any]) -> dict[str, Any]:
        upload_id = doc["_id"]
        with tempfile.NamedTemporaryFile(dir=self.temp_dir, prefix="sound-") as spool:
            sha256, size = await self.store.assemble(upload_id, doc["chunk_count"], spool)
            try:
                facts = await self.validator.validate(spool.name, declared=doc["format"])
            except AudioRejected as rejected:
                return {
                    "state": "rejected",
                    "reason_code": rejected.code,
                    "reason": rejected.reason,
                }
            _, owns_blob = await self.store.store_blob(upload_id, sha256, size)
        sound_id = uuid.uuid5(uuid.NAMESPACE_URL, f"kits-sound:{upload_id}").hex
        await self.store.insert_sound(
            {
                "_id": sound_id,
                "app_id": doc["app_id"],
                "user_key": doc["user_key"],
                "consent_id": doc["consent_id"],
                "title": doc["title"],
                "sha256": sha256,
                "media_type": doc["media_type"],
                "format": facts.format,
                "duration_ms": facts.duration_ms,
                "sample_rate": facts.sample_rate,
                "channels": facts.channels,
                "size_bytes": doc["total_size"],
                "created": self.clock(),
            }
        )
        return {
            "state": "ingested",
            "owns_blob": owns_blob,
            "sound_id": sound_id,
            "sha256": sha256,
            "duration_ms": facts.duration_ms,
            "format": facts.format,
        }

    async def _announce(self, doc: dict[str, Any]) -> None:
        common = {"user_key": doc["user_key"], "app_id": doc["app_id"], "upload_id": doc["_id"]}
        data: SoundIngested | SoundRejected
        if doc["state"] == "ingested":
            data = SoundIngested(
                **common,
                sound_id=doc["sound_id"],
                media_type=doc["media_type"][:100],
                duration_ms=doc["duration_ms"],
                size_bytes=doc["total_size"],
                sha256=doc["sha256"],
            )
        else:
            data = SoundRejected(**common, reason_code=doc["reason_code"], reason=doc["reason"])
        try:
            await self.publisher.publish(
                make_event(data, source=self.source, event_id=doc["event_id"])
            )
        except PublishFailed:
            log.warning("outcome not published; the sweep retries", extra={"upload": doc["_id"]})
            return
        await self.store.update_upload(doc["_id"], {"published": True})

    async def sweep(self) -> int:
        """Drop uploads idle past `abandon_after_s`, publish unpublished outcomes, forget old
        outcomes; how many uploads were dropped."""
        now, dropped = self.clock(), 0
        async for doc in self.store.uploads():
            touched = _aware(doc["touched"])
            if doc["state"] == "receiving" and now - touched > timedelta(
                seconds=self.abandon_after_s
            ):
                await self.store.drop_parts(doc["_id"])
                await self.store.delete_upload(doc["_id"])
                dropped += 1
            elif (
                doc["state"] == "validating"
                and doc["_id"] not in self._running
                and now - _aware(doc.get("validating_since", touched))
                > timedelta(seconds=self.stuck_after_s)
            ):
                # Interrupted (a process stop): validate again; every step is repeatable.
                await self.store.update_upload(doc["_id"], {"validating_since": now})
                self._start_validation(doc)
            elif doc["state"] in ("ingested", "rejected") and not doc.get("published"):
                await self._announce(doc)
            elif doc["state"] in ("ingested", "rejected") and now - touched > timedelta(
                seconds=self.keep_outcome_s
            ):
                await self.store.delete_upload(doc["_id"])
        return dropped

    async def end_consent(self, *, user_key: str, app_id: str) -> int:
        """The user's consent for the app ended: each of their open uploads for it is rejected
        (`consent_revoked`) and its chunks deleted; how many. The check already refuses every
        later call; this frees the storage at once rather than at the sweep."""
        ended = 0
        async for doc in self.store.uploads():
            if (doc["user_key"], doc["app_id"], doc["state"]) != (user_key, app_id, "receiving"):
                continue
            outcome = {
                "state": "rejected",
                "reason_code": "consent_revoked",
                "reason": "the user's consent for this app ended during the upload",
                "event_id": new_event_id(),
                "published": False,
            }
            await self.store.update_upload(doc["_id"], outcome)
            await self.store.drop_parts(doc["_id"])
            await self._announce({**doc, **outcome})
            ended += 1
        return ended

    async def drain(self) -> None:
        """Wait for running validations (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
