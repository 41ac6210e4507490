"""Sound's database: upload sessions, stored chunks, blobs (one per SHA-256) and sounds.

Collections (every hot read by `_id`; races settled by unique inserts, FerretDB facts):
- `uploads` (`_id` = upload id): the plan, owner, state, outcome; one writer at a time.
- `parts` (`_id` = `<upload id>:<chunk index>`): a stored chunk's GridFS file id, size, SHA-256.
  The unique `_id` settles two racing copies of one chunk; `upload_id` is indexed for the
  (small, pruned) list of an upload's parts.
- `completions` (`_id` = upload id): the claim that starts validation exactly once.
- `blobs` (`_id` = SHA-256): the ordered GridFS files (the upload's own chunks, not copied)
  holding that content; the unique insert keeps one copy.
- `sounds` (`_id` = sound id): an ingested sound (owner, blob digest, facts), written once.
- `sounds_by_user_NN` (the same documents, split over `LISTING_SHARDS` collections by a CRC-32
  of the owner's user key): what a user's listing reads. A filter on `user_key` is a scan on
  FerretDB, so it scans one small collection of the user's shard, not every sound.
- `migrations`: markers of one-off steps done at start (the listing copies' backfill).
- GridFS bucket `audio`: chunk bytes (while receiving) and blobs, streamed in and out.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import IO, Any

from bson import Binary, ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.mongo import Shards, find_id, insert_once
from sound.domain.uploads import Refused

log = logging.getLogger(__name__)
GRIDFS_CHUNK = 255 * 1024
LISTING_SHARDS = 64  # fixed for a deployment's life (a change would need the copies rebuilt)
LISTINGS_MARKER = "sounds_by_user"  # in `migrations`: the listing copies were backfilled
WRITES_IN_FLIGHT = 2  # chunk documents being inserted at once while the body arrives
COPY_BLOCK = 1024 * 1024


def _now_ms() -> datetime:
    """Now, at BSON's precision (milliseconds), as GridFS records `uploadDate`."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class ChunkTooLong(Exception):
    """The body went past the range it declared."""


class MongoSoundStore:
    """Everything sound keeps, over one database."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._db = db
        self._uploads, self._parts = db["uploads"], db["parts"]
        self._completions, self._blobs, self._sounds = (
            db["completions"],
            db["blobs"],
            db["sounds"],
        )
        self._fs = AsyncGridFSBucket(db, bucket_name="audio", chunk_size_bytes=GRIDFS_CHUNK)
        self._files, self._chunks = db["audio.files"], db["audio.chunks"]
        self._listings = Shards(db, "sounds_by_user", shards=LISTING_SHARDS)

    async def prepare(self) -> None:
        """Create the secondary indexes (an upload's parts, a user's sounds)."""
        await self._parts.create_index("upload_id")
        await asyncio.gather(
            *(c.create_index([("user_key", 1), ("_id", 1)]) for c in self._listings.all)
        )
        await self._backfill_listings()

    async def _backfill_listings(self) -> None:
        """Give the sounds of a database from before the listing shards their listing copies,
        once (a marker records it; a start that stopped half-way copies again, once by `_id`)."""
        migrations = self._db["migrations"]
        if await find_id(migrations, LISTINGS_MARKER) is not None:
            return
        async for doc in self._sounds.find({}):
            await insert_once(self._listing(doc["user_key"]), doc)
        await insert_once(migrations, {"_id": LISTINGS_MARKER, "at": _now_ms()})
        # GridFS's own indexes (its upload stream makes them on a first write; ours writes the
        # chunks itself, so they are made here, with the names and keys the spec gives).
        await self._chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
        await self._files.create_index([("filename", 1), ("uploadDate", 1)])

    # uploads
    async def insert_upload(self, doc: dict[str, Any]) -> None:
        await self._uploads.insert_one(doc)

    async def upload(self, upload_id: str) -> dict[str, Any] | None:
        return await self._uploads.find_one({"_id": upload_id})

    async def update_upload(self, upload_id: str, fields: dict[str, Any]) -> None:
        await self._uploads.update_one({"_id": upload_id}, {"$set": fields})

    async def delete_upload(self, upload_id: str) -> None:
        await self._uploads.delete_one({"_id": upload_id})

    async def uploads(self) -> AsyncIterator[dict[str, Any]]:
        """Every upload document (the sweep; the collection holds only unfinished sessions and
        recent outcomes)."""
        async for doc in self._uploads.find({}):
            yield doc

    async def claim_completion(self, upload_id: str, at: datetime) -> bool:
        try:
            await self._completions.insert_one({"_id": upload_id, "at": at})
        except DuplicateKeyError:
            return False
        return True

    # parts
    async def put_part(
        self, upload_id: str, index: int, body: AsyncIterator[bytes], *, length: int
    ) -> bool:
        """Stream one chunk into GridFS; True if new, False if the same bytes were stored
        already; Refused("range_conflict") for different bytes; ChunkTooLong or Refused
        ("incomplete_chunk") when the body is not exactly `length` bytes."""
        file_id = ObjectId()
        sha, size = await self._write_file(file_id, f"part:{upload_id}:{index}", body, length)
        if size != length:
            raise Refused("incomplete_chunk", f"the chunk holds {size} of {length} bytes")
        doc = {"_id": f"{upload_id}:{index}", "upload_id": upload_id, "index": index}
        try:
            await self._parts.insert_one({**doc, "file_id": file_id, "size": size, "sha256": sha})
        except DuplicateKeyError:
            await self._fs.delete(file_id)
            stored = await self._parts.find_one({"_id": doc["_id"]})
            if stored is not None and stored["sha256"] == sha:
                return False
            raise Refused(
                "range_conflict", "different bytes were already stored for this range"
            ) from None
        return True

    async def _write_file(
        self, file_id: ObjectId, filename: str, body: AsyncIterator[bytes], length: int
    ) -> tuple[str, int]:
        """The GridFS file `file_id` from `body`: (SHA-256, size). Its chunk documents are
        written `WRITES_IN_FLIGHT` at a time while the body goes on arriving (pymongo's upload
        stream writes one and waits), then the files document, only when exactly `length`
        bytes came; otherwise (or on any error) the chunks written are deleted."""
        digest, size, n = hashlib.sha256(), 0, 0
        buffer = bytearray()
        writing: set[asyncio.Task[object]] = set()

        async def put(data: bytes) -> None:
            nonlocal n
            while len(writing) >= WRITES_IN_FLIGHT:
                done, _ = await asyncio.wait(writing, return_when=asyncio.FIRST_COMPLETED)
                writing.difference_update(done)
                errors = [e for t in done if (e := t.exception()) is not None]
                if errors:
                    raise errors[0]  # a failed write ends the upload
            chunk = {"files_id": file_id, "n": n, "data": Binary(data)}
            writing.add(asyncio.ensure_future(self._chunks.insert_one(chunk)))
            n += 1

        try:
            async for piece in body:
                size += len(piece)
                if size > length:
                    raise ChunkTooLong
                digest.update(piece)
                buffer += piece
                while len(buffer) >= GRIDFS_CHUNK:
                    await put(bytes(buffer[:GRIDFS_CHUNK]))
                    del buffer[:GRIDFS_CHUNK]
            if buffer:
                await put(bytes(buffer))
            await asyncio.gather(*writing)
            writing.clear()
            if size == length:
                await self._files.insert_one(
                    {
                        "_id": file_id,
                        "length": size,
                        "chunkSize": GRIDFS_CHUNK,
                        "uploadDate": _now_ms(),
                        "filename": filename,
                    }
                )
                return digest.hexdigest(), size
        except BaseException:
            # The writes under way are let finish (a cancelled insert the server already has
            # could land after the delete), then every chunk written goes; the cleanup is
            # shielded from the request's own cancellation, and its failure is only logged.
            await asyncio.shield(self._discard(file_id, writing))
            raise
        await self._chunks.delete_many({"files_id": file_id})
        return digest.hexdigest(), size

    async def _discard(self, file_id: ObjectId, writing: set[asyncio.Task[object]]) -> None:
        await asyncio.gather(*writing, return_exceptions=True)
        try:
            await self._chunks.delete_many({"files_id": file_id})
        except Exception:  # noqa: BLE001 - the upload's own error is the one to raise
            log.warning(
                "chunks of an unfinished part were not deleted", extra={"file": str(file_id)}
            )

    async def parts(self, upload_id: str) -> dict[int, dict[str, Any]]:
        return {d["index"]: d async for d in self._parts.find({"upload_id": upload_id})}

    async def assemble(self, upload_id: str, count: int, into: IO[bytes]) -> tuple[str, int]:
        """Write the chunks in order into `into` (a local file; writes in a thread); the
        SHA-256 and size of the whole."""
        parts, digest, size = await self.parts(upload_id), hashlib.sha256(), 0
        for index in range(count):
            source = await self._fs.open_download_stream(parts[index]["file_id"])
            while piece := await source.read(COPY_BLOCK):
                digest.update(piece)
                size += len(piece)
                await asyncio.to_thread(into.write, piece)
        await asyncio.to_thread(into.flush)
        return digest.hexdigest(), size

    async def drop_parts(self, upload_id: str, *, keep_files: bool = False) -> None:
        """Forget an upload's parts, and delete their bytes unless they became its blob."""
        for part in (await self.parts(upload_id)).values():
            if not keep_files:
                with contextlib.suppress(NoFile):
                    await self._fs.delete(part["file_id"])
            await self._parts.delete_one({"_id": part["_id"]})

    # blobs and sounds
    async def store_blob(self, upload_id: str, sha256: str, size: int) -> tuple[str, bool]:
        """Make the upload's stored chunks the blob of this content (no copy: the blob is the
        ordered list of their GridFS files) unless another upload's chunks hold it already;
        the digest, and whether this upload's chunks are the blob (then they must be kept when
        its parts are forgotten). Repeatable: a re-run for the same upload finds its own blob."""
        parts = await self.parts(upload_id)
        files = [parts[index]["file_id"] for index in range(len(parts))]
        try:
            await self._blobs.insert_one({"_id": sha256, "files": files, "size": size})
        except DuplicateKeyError:
            existing = await self._blobs.find_one({"_id": sha256})
            return sha256, existing is not None and existing["files"] == files
        return sha256, True

    async def blob(self, sha256: str) -> dict[str, Any] | None:
        return await self._blobs.find_one({"_id": sha256})

    async def blob_pieces(
        self, blob: dict[str, Any], start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The blob's bytes from `start` to `end` (exclusive), streamed a block at a time."""
        end = blob["size"] if end is None else end
        offset = 0
        for file_id in blob["files"]:
            source = await self._fs.open_download_stream(file_id)
            length = source.length
            if offset + length <= start or offset >= end:
                offset += length
                continue
            skip = max(0, start - offset)
            if skip:
                await source.seek(skip)
            left = min(length, end - offset) - skip
            while left > 0:
                piece = await source.read(min(COPY_BLOCK, left))
                if not piece:
                    break
                left -= len(piece)
                yield piece
            offset += length

    async def file_count(self) -> int:
        """GridFS files in the bucket (tests: one copy per content)."""
        return await self._db["audio.files"].count_documents({})

    async def insert_sound(self, doc: dict[str, Any]) -> None:
        """The sound, then its listing copy (each written once: a retried validation that
        writes them again, after a crash in between too, finds them there)."""
        # A DuplicateKeyError: the same upload's outcome written again (a retried validation).
        with contextlib.suppress(DuplicateKeyError):
            await self._sounds.insert_one(doc)
        with contextlib.suppress(DuplicateKeyError):
            await self._listing(doc["user_key"]).insert_one(doc)

    def _listing(self, user_key: str) -> AsyncCollection[dict[str, Any]]:
        return self._listings.of(user_key)

    async def sounds_of(
        self, user_key: str, after: str, limit: int
    ) -> AsyncIterator[dict[str, Any]]:
        """A user's sounds with ids after `after`, by id (from the user's listing shard)."""
        query: dict[str, Any] = {"user_key": user_key}
        if after:
            query["_id"] = {"$gt": after}
        async for doc in self._listing(user_key).find(query).sort("_id", 1).limit(limit):
            yield doc

    async def sound(self, sound_id: str) -> dict[str, Any] | None:
        return await self._sounds.find_one({"_id": sound_id})
