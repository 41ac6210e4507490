"""How a run of consecutive ledger entries is stored: one document (a chunk), one compressed blob.

FerretDB v1 pays per document and per field value it converts (measured here: one document
per entry wrote ~6k and read ~5k entries/s; the same entries 170 to a document in one zlib
blob wrote ~35k and read ~105k entries/s), so a chunk is three fields:

    {_id: index of its first entry, n: number of entries, z: zlib level 1 of the blob}

and the blob holds, for its n entries, six sections one after the other:

    id lengths    n x uint16
    data lengths  n x uint32
    positions     n x (int64 index, int64 Kafka offset)
    ids           the UTF-8 event ids, back to back
    hashes        per entry its leaf hash, then the perfect nodes its append completed
                  (32 bytes each; entry i completes as many nodes as i has trailing one bits,
                  so node (level, j) is stored with entry (j + 1) * 2**level - 1: `holder_of`)
    data          each event's exact bytes (what the leaf hash covers), back to back

All integers are big-endian. Each entry keeps its own index and offset so the full audit judges
every entry on its own (a deleted or reordered entry inside a chunk is located, not smeared).
Events are JSON, so the blob is about a fifth of their size; it inflates at over 400 MB/s.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

from audit.domain.ledger import Entry, EntryBatch
from audit.domain.merkle import HASH_SIZE, NodeId
from audit.service.ports import UnreadableEntries
from shared.mongo import Document

CHUNK_ENTRIES = 1000
"""At most this many entries in one document..."""
CHUNK_BYTES = 4 * 1024 * 1024
"""...and at most about this many bytes of event data (MongoDB's limit is 16 MiB a document)."""
MAX_BLOB = 64 * 1024 * 1024
"""No stored chunk inflates to more than this (one oversized entry may exceed CHUNK_BYTES)."""
_POS = struct.Struct(">qq")


class MalformedChunk(UnreadableEntries):
    """A stored chunk whose parts do not fit together (the store was damaged or tampered with)."""

    def __init__(self, start: int, problem: str) -> None:
        super().__init__(start, f"stored chunk at index {start} is malformed: {problem}")


def holder_of(node: NodeId) -> int:
    """The index of the entry that stores perfect node (level, index): the one whose append
    completed it."""
    level, index = node
    return ((index + 1) << level) - 1


def completed_nodes(index: int) -> int:
    """How many nodes above its leaf the append of entry `index` completes (its trailing ones)."""
    return (~index & (index + 1)).bit_length() - 1


def hashes_before(index: int) -> int:
    """Leaf and node hashes held by the entries before `index`: index + (index - popcount)."""
    return 2 * index - index.bit_count()


@dataclass(frozen=True, slots=True)
class Run:
    """A run of consecutive entries of one shard as one stored chunk holds them, decoded: in
    columns, their hashes packed as in the blob (a shard's hashes stay in memory so).

    `start` is the chunk's `_id`; each entry still has its own stored index in `positions`,
    and `hashes` holds, entry after entry, its leaf hash and completed nodes.
    """

    shard: str
    start: int
    ids: Sequence[str]
    positions: Sequence[tuple[int, int]]
    """(index, Kafka offset) of each entry."""
    hashes: bytes
    data: Sequence[bytes]

    @classmethod
    def of(cls, entries: Sequence[Entry]) -> Run:
        """The run of these entries (non-empty, one shard), as one chunk stores it."""
        return cls(
            shard=entries[0].shard,
            start=entries[0].index,
            ids=[e.event_id for e in entries],
            positions=[(e.index, e.offset) for e in entries],
            hashes=b"".join(e.leaf + b"".join(e.nodes) for e in entries),
            data=[e.data for e in entries],
        )

    @property
    def last_offset(self) -> int:
        """The Kafka offset of the run's last entry."""
        return self.positions[-1][1]

    def batch(self) -> EntryBatch:
        """The run's entries field by field, each with the hashes its stored index holds."""
        packed, at, held = self.hashes, 0, []
        for index, _ in self.positions:  # for every entry the full audit reads: kept lean
            end = at + HASH_SIZE * (~index & (index + 1)).bit_length()  # 1 + completed_nodes
            held.append(packed[at:end])
            at = end
        return EntryBatch(self.shard, self.ids, self.positions, held, self.data)

    def entries(self) -> list[Entry]:
        """The run's entries, each with its own stored index, offset, hashes and data."""
        batch = self.batch()
        return [batch.entry(k) for k in range(len(batch))]


def chunks(entries: Sequence[Entry]) -> Iterator[Sequence[Entry]]:
    """Consecutive runs of at most CHUNK_ENTRIES entries and about CHUNK_BYTES of data."""
    start, size = 0, 0
    for i, entry in enumerate(entries):
        if i > start and (i - start >= CHUNK_ENTRIES or size + len(entry.data) > CHUNK_BYTES):
            yield entries[start:i]
            start, size = i, 0
        size += len(entry.data)
    if start < len(entries):
        yield entries[start:]


def encode_chunk(run: Run) -> Document:
    """The document for a run of consecutive entries of one shard (`decode_chunk` reverses it)."""
    count, ids = len(run.ids), [i.encode() for i in run.ids]
    blob = b"".join(
        [
            struct.pack(f">{count}H", *(len(i) for i in ids)),
            struct.pack(f">{count}I", *(len(d) for d in run.data)),
            *(_POS.pack(index, offset) for index, offset in run.positions),
            *ids,
            run.hashes,
            *run.data,
        ]
    )
    return {"_id": run.start, "n": count, "z": zlib.compress(blob, 1)}


def _inflate(start: int, z: bytes) -> bytes:
    inflate = zlib.decompressobj()
    try:
        blob = inflate.decompress(z, MAX_BLOB)
    except zlib.error as exc:
        raise MalformedChunk(start, f"does not decompress: {exc}") from exc
    if inflate.unconsumed_tail or inflate.unused_data or not inflate.eof:
        raise MalformedChunk(start, "compressed blob is cut short, too large or padded")
    return blob


def _split(start: int, packed: bytes, lengths: Sequence[int], what: str) -> list[bytes]:
    if sum(lengths) != len(packed):
        raise MalformedChunk(start, f"{what} do not add up to their lengths")
    ends = list(accumulate(lengths))
    return [packed[a:b] for a, b in zip([0, *ends], ends, strict=False)]


def decode_chunk(shard: str, doc: Document) -> Run:
    """Unpack a stored chunk; MalformedChunk names what does not fit."""
    start, count = doc.get("_id"), doc.get("n")
    if not isinstance(start, int) or not isinstance(count, int) or count < 1:
        raise MalformedChunk(start if isinstance(start, int) else -1, "bad _id or n")
    z = doc.get("z")
    if not isinstance(z, bytes):
        raise MalformedChunk(start, "no compressed blob")
    blob = _inflate(start, z)
    header = (2 + 4 + _POS.size) * count
    if len(blob) < header:
        raise MalformedChunk(start, "the blob ends early")
    id_lengths = struct.unpack_from(f">{count}H", blob, 0)
    data_lengths = struct.unpack_from(f">{count}I", blob, 2 * count)
    positions = list(_POS.iter_unpack(blob[6 * count : header]))
    indices = [index for index, _ in positions]
    if indices == list(range(start, start + count)):  # as written: the count follows
        hashes_size = HASH_SIZE * (hashes_before(start + count) - hashes_before(start))
    elif min(indices) < 0:
        raise MalformedChunk(start, "a negative index")
    else:  # tampered with; the full audit says where
        hashes_size = HASH_SIZE * sum(1 + completed_nodes(index) for index in indices)
    ids_end = header + sum(id_lengths)
    data_start = ids_end + hashes_size
    if data_start > len(blob):
        raise MalformedChunk(start, "the blob ends early")
    try:
        ids = [i.decode() for i in _split(start, blob[header:ids_end], id_lengths, "ids")]
    except UnicodeDecodeError as exc:
        raise MalformedChunk(start, "an event id is not UTF-8") from exc
    data = _split(start, blob[data_start:], data_lengths, "event data")
    return Run(
        shard=shard,
        start=start,
        ids=ids,
        positions=positions,
        hashes=blob[ids_end:data_start],
        data=data,
    )
