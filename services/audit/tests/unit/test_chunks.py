"""Chunks: many entries in one stored document, read back exactly, nodes found by index."""

from __future__ import annotations

import dataclasses
import json
import struct
import zlib

import pytest

from audit.adapters import chunks as chunk_format
from audit.adapters.chunks import (
    MalformedChunk,
    Run,
    chunks,
    completed_nodes,
    decode_chunk,
    encode_chunk,
    holder_of,
)
from audit.adapters.mongo_ledger import _Shard
from audit.domain.integrity import names_event
from audit.domain.ledger import Entry, Record, ShardLog
from audit.domain.merkle import CompactRange
from audit.service.ports import UnreadableEntries
from audit_testing import audit_shard, node_of
from shared.events import make_event
from shared.events.auth import UserLoggedIn


def entries(count: int, *, size: int = 40) -> list[Entry]:
    log = ShardLog(shard="s/0", tree=CompactRange())
    return [
        log.append(
            Record(
                event_id=f"e{i:03d}",
                shard="s/0",
                offset=100 + 2 * i,
                data=json.dumps({"id": f"e{i:03d}", "pad": "x" * size}).encode(),
            )
        )
        for i in range(count)
    ]


def test_completed_nodes_are_the_trailing_ones_of_the_index() -> None:
    assert [completed_nodes(i) for i in range(9)] == [0, 1, 0, 2, 0, 1, 0, 3, 0]
    for e in entries(64):
        assert completed_nodes(e.index) == len(e.nodes)


def test_a_chunk_reads_back_exactly() -> None:
    stored = entries(37)
    for start, end in ((0, 37), (5, 6), (7, 30)):
        part = stored[start:end]
        doc = encode_chunk(Run.of(part))
        assert (doc["_id"], doc["n"]) == (start, end - start)
        chunk = decode_chunk("s/0", doc)
        assert chunk.entries() == part
        assert chunk == Run.of(part)
        assert chunk.last_offset == part[-1].offset
        batch = chunk.batch()
        assert [batch.entry(k) for k in range(len(batch))] == part


def test_chunks_split_by_count_and_by_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = entries(25, size=100)
    monkeypatch.setattr(chunk_format, "CHUNK_ENTRIES", 10)
    assert [len(c) for c in chunks(stored)] == [10, 10, 5]
    monkeypatch.setattr(chunk_format, "CHUNK_BYTES", 3 * len(stored[0].data))
    assert [len(c) for c in chunks(stored)] == [3] * 8 + [1]
    monkeypatch.setattr(chunk_format, "CHUNK_BYTES", 1)  # one oversized entry still goes alone
    assert [len(c) for c in chunks(stored)] == [1] * 25


def test_every_node_is_found_across_chunk_boundaries() -> None:
    stored = entries(100)
    known = _Shard()
    for start, end in ((0, 1), (1, 13), (13, 64), (64, 65), (65, 100)):
        known.add(decode_chunk("s/0", encode_chunk(Run.of(stored[start:end]))))
    assert (known.size, known.last_offset, known.ids["e042"]) == (100, 298, 42)
    for level in range(7):
        for index in range(100 >> level):
            assert known.node(level, index) == node_of(stored[holder_of((level, index))], level)
    assert known.node(0, 100) is None
    assert known.node(2, 25) is None


def blob_of(count: int) -> bytes:
    return zlib.decompress(encode_chunk(Run.of(entries(count)))["z"])


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda blob: blob[:-1], "do not add up"),
        (lambda blob: blob + b"\x00", "do not add up"),
        (lambda blob: blob[:30], "ends early"),
        (lambda blob: b"", "ends early"),
        # the first id's length says 5, not 4 ("e000"): every later section slides by a byte
        (lambda blob: struct.pack(">H", 5) + blob[2:], "do not add up|not UTF-8"),
    ],
)
def test_a_chunk_whose_sections_do_not_fit_is_malformed(change: object, problem: str) -> None:
    doc = encode_chunk(Run.of(entries(9)))
    blob = change(blob_of(9))  # type: ignore[operator]
    with pytest.raises(MalformedChunk, match=f"index 0 is malformed: .*({problem})"):
        decode_chunk("s/0", {**doc, "z": zlib.compress(blob)})


def test_a_blob_that_does_not_inflate_or_a_bad_header_is_malformed() -> None:
    doc = encode_chunk(Run.of(entries(9)))
    good = bytes(doc["z"])
    for broken in (
        {**doc, "z": good[:-3]},
        {**doc, "z": b"not zlib"},
        {**doc, "z": good + b"x"},
        {**doc, "z": "text"},
        {**doc, "n": 0},
        {**doc, "n": 10},
        {**doc, "_id": "zero"},
    ):
        with pytest.raises(MalformedChunk, match="is malformed"):
            decode_chunk("s/0", broken)


def test_a_negative_index_is_malformed() -> None:
    stored = entries(3)
    doc = encode_chunk(Run.of([stored[0], dataclasses.replace(stored[1], index=-1), stored[2]]))
    with pytest.raises(UnreadableEntries, match="negative index") as caught:
        decode_chunk("s/0", doc)
    assert isinstance(caught.value, MalformedChunk)
    assert caught.value.start == 0


def test_the_event_id_check_is_exact_for_our_envelope_and_falls_back_to_json() -> None:
    event = make_event(UserLoggedIn(user_key="uk_abc", session_id="s1"), source="/auth")
    data = event.to_bytes()
    assert data.startswith(b'{"specversion":"1.0","id":"')
    assert names_event(data, event.id)
    assert not names_event(data, "other")
    assert not names_event(data, event.id[:-1])
    # a second top-level "id" wins in JSON: neither the fast path nor the parse is fooled
    doubled = data[:-1] + b',"id":"forged"}'
    assert not names_event(doubled, event.id)
    assert names_event(doubled, "forged")
    escaped = data[:-1] + b',"\\u0069d":"forged"}'
    assert not names_event(escaped, event.id)
    assert names_event(escaped, "forged")
    # other producers' spelling: parsed
    assert names_event(b'{ "id" : "x1", "type": "t" }', "x1")
    assert not names_event(b"[1, 2]", "x1")
    assert not names_event(b"not json", "x1")


def test_what_no_signed_checkpoint_covers_is_parsed_in_full() -> None:
    log = ShardLog(shard="s/0", tree=CompactRange())
    truncated = b'{"specversion":"1.0","id":"e0"'  # the fast path alone would take it
    assert names_event(truncated, "e0")
    stored = [log.append(Record(event_id="e0", shard="s/0", offset=0, data=truncated))]
    [finding] = audit_shard("s/0", stored, [])
    assert (finding.index, finding.event_id) == (0, "e0")
    assert "not the event the entry names" in finding.problem
