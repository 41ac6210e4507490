"""The audit's tamper matrix over one entry response (`GET /ledger/entries/...` as served).

Every corrupted copy must fail to verify: an off-by-one index, a wrong tree size, a bit flipped in
each element (the entry's bytes and leaf hash, each proof hash, each root, every checkpoint field,
the signature), an element removed or added, swapped roots, a bad signature.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.verify import checkpoint_body, checkpoint_from_dict, leaf_hash
from ledger_verify_testing import b64, unb64

Doc = dict[str, Any]
ZERO = b64(bytes(32))


def _flip(text: str, *, byte: int, mask: int = 0x01) -> str:
    """A base64 field with one bit of one byte flipped."""
    raw = bytearray(unb64(text))
    raw[byte % len(raw)] ^= mask
    return b64(bytes(raw))


def _flip_char(text: str, *, at: int) -> str:
    """A text field with the lowest bit of one character flipped."""
    at %= len(text)
    return text[:at] + chr(ord(text[at]) ^ 0x01) + text[at + 1 :]


def _set(doc: Doc, *changes: tuple[tuple[str | int, ...], Any]) -> Doc:
    """A copy of doc with each (path, value) set; a value of DROP removes the member."""
    changed = copy.deepcopy(doc)
    for path, value in changes:
        target: Any = changed
        for part in path[:-1]:
            target = target[part]
        if value is DROP:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return changed


DROP = object()
Variants = Iterator[tuple[str, Doc]]


def _entry_variants(doc: Doc) -> Variants:
    entry = doc["entry"]
    index, data = entry["index"], unb64(entry["data"])
    for delta in (-1, 1):
        if index + delta >= 0:
            yield f"index {delta:+d}", _set(doc, (("entry", "index"), index + delta))
    for at in (0, len(data) // 2, len(data) - 1):
        flipped = _flip(entry["data"], byte=at)
        yield f"bit of data byte {at}", _set(doc, (("entry", "data"), flipped))
    changed = bytes([data[0] ^ 0x01]) + data[1:]
    yield (
        "data flipped and its leaf hash recomputed",
        _set(
            doc,
            (("entry", "data"), b64(changed)),
            (("entry", "leaf_hash"), b64(leaf_hash(changed))),
        ),
    )
    for at in (0, 31):
        flipped = _flip(entry["leaf_hash"], byte=at)
        yield f"bit of leaf_hash byte {at}", _set(doc, (("entry", "leaf_hash"), flipped))
    yield "unknown shard", _set(doc, (("entry", "shard"), "nowhere.events/0"))
    for head in doc["checkpoint"]["shards"]:
        if head["shard"] != entry["shard"]:
            yield f"entry moved to {head['shard']}", _set(doc, (("entry", "shard"), head["shard"]))
    yield "extra entry field", _set(doc, (("entry", "extra"), 1))
    yield "entry data missing", _set(doc, (("entry", "data"), DROP))


def _proof_variants(doc: Doc) -> Variants:
    proof: list[str] = doc["proof"]
    shard = doc["entry"]["shard"]
    root = next(h["root"] for h in doc["checkpoint"]["shards"] if h["shard"] == shard)
    for i, element in enumerate(proof):
        for at, mask in ((0, 0x01), (31, 0x80), (17, 0x10)):
            flipped = _flip(element, byte=at, mask=mask)
            yield f"bit {mask:#x} of byte {at} of proof[{i}]", _set(doc, (("proof", i), flipped))
        yield f"proof[{i}] removed", _set(doc, (("proof",), proof[:i] + proof[i + 1 :]))
    for i in range(len(proof) + 1):
        for extra in (ZERO, root, *proof[:1]):
            yield (
                f"element inserted at {i}",
                _set(doc, (("proof",), [*proof[:i], extra, *proof[i:]])),
            )
    for i in range(len(proof) - 1):
        if proof[i] != proof[i + 1]:
            swapped = [*proof[:i], proof[i + 1], proof[i], *proof[i + 2 :]]
            yield f"proof[{i}] and proof[{i + 1}] swapped", _set(doc, (("proof",), swapped))
    if proof:
        yield (
            "leaf_hash swapped with proof[0]",
            _set(
                doc, (("entry", "leaf_hash"), proof[0]), (("proof", 0), doc["entry"]["leaf_hash"])
            ),
        )
    yield "proof missing", _set(doc, (("proof",), DROP))


def _checkpoint_variants(doc: Doc) -> Variants:
    cp = doc["checkpoint"]
    heads: list[Doc] = cp["shards"]
    for n, head in enumerate(heads):
        at = ("checkpoint", "shards", n)
        yield (
            f"bit of root of {head['shard']}",
            _set(doc, ((*at, "root"), _flip(head["root"], byte=5))),
        )
        for delta in (-1, 1):  # a wrong tree size
            yield (
                f"size {delta:+d} of {head['shard']}",
                _set(doc, ((*at, "size"), head["size"] + delta)),
            )
        renamed = _flip_char(head["shard"], at=2)
        yield f"bit of the name of {head['shard']}", _set(doc, ((*at, "shard"), renamed))
        rest = heads[:n] + heads[n + 1 :]
        yield f"{head['shard']} removed", _set(doc, (("checkpoint", "shards"), rest))
    added = [*heads, {"shard": "~added/0", "size": 1, "root": ZERO}]
    yield "shard added", _set(doc, (("checkpoint", "shards"), added))
    if len(heads) > 1:
        yield (
            "roots swapped",
            _set(
                doc,
                (("checkpoint", "shards", 0, "root"), heads[1]["root"]),
                (("checkpoint", "shards", 1, "root"), heads[0]["root"]),
            ),
        )
    for name in ("origin", "time", "key_id"):
        for char in (0, -1):
            flipped = _flip_char(cp[name], at=char)
            yield f"bit of {name} character {char}", _set(doc, (("checkpoint", name), flipped))
    yield "unknown key id", _set(doc, (("checkpoint", "key_id"), "0123456789abcdef"))
    yield "extra checkpoint field", _set(doc, (("checkpoint", "extra"), 1))


def _signature_variants(doc: Doc) -> Variants:
    signature = ("checkpoint", "signature")
    for at in (0, 31, 63):
        flipped = _flip(doc["checkpoint"]["signature"], byte=at)
        yield f"bit of signature byte {at}", _set(doc, (signature, flipped))
    yield "signature all zeros", _set(doc, (signature, b64(bytes(64))))
    parsed = checkpoint_from_dict(doc["checkpoint"])
    body = checkpoint_body(origin=parsed.origin, shards=parsed.shards, time=parsed.time)
    forged = b64(Ed25519PrivateKey.generate().sign(body))
    yield "signed by another key under the same key id", _set(doc, (signature, forged))


def tamper_matrix(doc: Doc, *, other: Doc | None = None) -> list[tuple[str, Doc]]:
    """Every corrupted copy of an entry response (`other`: another response, to mix in)."""
    variants = [
        *_entry_variants(doc),
        *_proof_variants(doc),
        *_checkpoint_variants(doc),
        *_signature_variants(doc),
    ]
    if other is not None:
        # Its bytes in this entry's place. (The whole of another entry, with a proof that fits
        # it, is no corruption: it is that entry, which verifyEntry's `eventId` tells apart.)
        data = (("entry", "data"), other["entry"]["data"])
        leaf = (("entry", "leaf_hash"), other["entry"]["leaf_hash"])
        variants.append(("another entry's bytes and leaf hash here", _set(doc, data, leaf)))
        if other["checkpoint"] != doc["checkpoint"]:
            theirs = other["checkpoint"]["signature"]
            variants.append(
                ("another checkpoint's signature", _set(doc, (("checkpoint", "signature"), theirs)))
            )
    return variants
