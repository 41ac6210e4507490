"""How fact bodies are packed: small ones as plain BSON (no zlib set-up per document), large
ones compressed, and bodies written by either form (or by older code) read back alike."""

from __future__ import annotations

import zlib
from typing import Any

import bson
from bson.codec_options import CodecOptions

from audit.adapters.fact_chains import COMPRESS_FROM, RAW, pack, unpack

OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)


def body(transfers: int) -> dict[str, Any]:
    row = {"id": "01a234c9-7bf4-77b2-b87b-4fef51a69eb0", "data": {"app_id": "a"}, "at": 1}
    return {"consents": [], "transfers": [row] * transfers}


def test_a_batchs_body_for_one_user_is_plain_bson_and_reads_back() -> None:
    small = body(1)
    packed = pack(small)
    assert packed == RAW + bson.encode(small)
    assert unpack(packed, OPTIONS) == small


def test_a_large_body_is_compressed_and_reads_back() -> None:
    large = body(200)
    assert len(bson.encode(large)) >= COMPRESS_FROM
    packed = pack(large)
    assert packed[:1] != RAW
    assert len(packed) < len(bson.encode(large)) // 4
    assert unpack(packed, OPTIONS) == large


def test_bodies_stored_compressed_before_still_read_back() -> None:
    small = body(1)
    assert unpack(zlib.compress(bson.encode(small), 1), OPTIONS) == small
