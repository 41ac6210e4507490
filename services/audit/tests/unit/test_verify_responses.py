"""Tests of the strict JSON parsing and verification of proof responses."""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from merkle_reference import extend

from audit.domain.merkle import CompactRange
from audit.domain.stored_tree import inclusion_proof_from_store, node_getter
from audit.verify import (
    CheckpointError,
    CheckpointFormatError,
    Entry,
    FormatError,
    InclusionResponse,
    ProofError,
    ProofFormatError,
    ShardHead,
    inclusion_response_to_dict,
    leaf_hash,
    parse_consistency_response,
    parse_inclusion_response,
    public_keys_by_id,
    sign_checkpoint,
    verify_inclusion_response,
)
from audit.verify.encoding import loads_strict

SHARD = "consent.events/3"
# Each is rejected as a shard name: 1-200 printable ASCII characters without spaces.
BAD_SHARD_NAMES: list[Any] = [
    "",
    "consent events/3",
    "consent.events/3 ",
    "consent.events/3\n",
    "consent.événements/3",
    "x" * 201,
    3,
    -1,
    None,
    True,
    ["consent.events/3"],
]


def _inclusion_doc(index: int = 3) -> tuple[dict[str, Any], Ed25519PrivateKey]:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    datas = [b'{"event":%d}' % i for i in range(6)]
    tree = CompactRange()
    store = {(n.level, n.index): n.hash for n in extend(tree, (leaf_hash(d) for d in datas))}
    proof = inclusion_proof_from_store(index=index, tree_size=6, get_node=node_getter(store))
    checkpoint = sign_checkpoint(
        private_key=key,
        origin="audit.test/log",
        time="2025-01-31T12:00:00Z",
        shards=[ShardHead(shard=SHARD, size=6, root=tree.root())],
    )
    entry = Entry(
        id=f"e{index}",
        shard=SHARD,
        index=index,
        leaf_hash=leaf_hash(datas[index]),
        data=datas[index],
    )
    response = InclusionResponse(entry=entry, proof=tuple(proof), checkpoint=checkpoint)
    return inclusion_response_to_dict(response), key


def _verify_doc(doc: object, *, key: Ed25519PrivateKey) -> None:
    response = parse_inclusion_response(
        loads_strict(json.dumps(doc), what="doc", error=ProofFormatError)
    )
    verify_inclusion_response(response=response, public_keys=public_keys_by_id([key.public_key()]))


def test_inclusion_response_round_trip() -> None:
    doc, key = _inclusion_doc()
    _verify_doc(doc, key=key)
    parsed = parse_inclusion_response(doc)
    assert parsed.entry.shard == SHARD
    assert doc["entry"]["shard"] == SHARD
    assert doc["checkpoint"]["shards"][0]["shard"] == SHARD
    assert inclusion_response_to_dict(parsed) == doc


def _set_pad_bits(text: str) -> str:
    """Set the unused low bits of the last base64 digit (same bytes, non-canonical text)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    assert text.endswith("=")
    assert not text.endswith("==")
    changed = text[:-2] + alphabet[alphabet.index(text[-2]) ^ 1] + "="
    assert base64.b64decode(changed) == base64.b64decode(text)
    return changed


def _edited(doc: dict[str, Any], *, path: list[Any], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    target = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


def _mutations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    def edit(path: list[Any], *, value: Any) -> dict[str, Any]:
        return _edited(doc, path=path, value=value)

    p0 = doc["proof"][0]
    yield "garbage after base64", edit(["proof", 0], value=p0 + "AAAA")
    yield "garbage char after base64", edit(["proof", 0], value=p0 + "x")
    yield (
        "trailing bytes in element",
        edit(["proof", 0], value=base64.b64encode(bytes(33)).decode()),
    )
    yield "whitespace in base64", edit(["proof", 0], value=" " + p0)
    yield (
        "non-canonical padding bits",
        edit(["entry", "leaf_hash"], value=_set_pad_bits(doc["entry"]["leaf_hash"])),
    )
    yield "extra top-level field", edit(["extra"], value=1)
    yield "extra entry field", edit(["entry", "extra"], value=1)
    yield "extra checkpoint field", edit(["checkpoint", "extra"], value=1)
    yield "extra shard field", edit(["checkpoint", "shards", 0, "extra"], value=1)
    yield "index as string", edit(["entry", "index"], value="3")
    yield "index as bool", edit(["entry", "index"], value=True)
    yield "shard as bool", edit(["entry", "shard"], value=True)
    for name in BAD_SHARD_NAMES:
        yield f"entry shard {name!r}", edit(["entry", "shard"], value=name)
        yield f"checkpoint shard {name!r}", edit(["checkpoint", "shards", 0, "shard"], value=name)
    yield "index as float", edit(["entry", "index"], value=3.0)
    yield "proof not a list", edit(["proof"], value=doc["proof"][0])
    yield "id not a string", edit(["entry", "id"], value=3)


def test_malformed_inclusion_responses_rejected() -> None:
    doc, key = _inclusion_doc()
    for reason, bad in _mutations(doc):
        with pytest.raises(FormatError):  # ProofFormatError or CheckpointFormatError
            _verify_doc(bad, key=key)
        assert reason
    missing = copy.deepcopy(doc)
    del missing["entry"]["data"]
    with pytest.raises(ProofFormatError, match="missing field"):
        parse_inclusion_response(missing)
    for text in (json.dumps(doc) + "x", json.dumps(doc) + "{}", '{"a": 1, "a": 2}', "NaN"):
        with pytest.raises(ProofFormatError):
            loads_strict(text, what="doc", error=ProofFormatError)


def test_tampered_inclusion_responses_rejected() -> None:
    doc, key = _inclusion_doc()
    cases: list[tuple[list[Any], Any, type[Exception]]] = [
        (["entry", "index"], 2, ProofError),
        (["entry", "index"], 4, ProofError),
        (["entry", "shard"], "consent.events/2", CheckpointError),
        (["entry", "shard"], "consent.events/03", CheckpointError),
        (["entry", "shard"], "Consent.events/3", CheckpointError),
        (["checkpoint", "shards", 0, "shard"], "consent.events/2", CheckpointError),
        (["entry", "data"], base64.b64encode(b'{"event":4}').decode(), ProofError),
        (["entry", "leaf_hash"], doc["proof"][0], ProofError),
        (["checkpoint", "shards", 0, "size"], 5, CheckpointError),
        (["checkpoint", "shards", 0, "size"], 7, CheckpointError),
        (["proof"], doc["proof"][:-1], ProofError),
        (["proof"], [*doc["proof"], doc["proof"][0]], ProofError),
    ]
    for path, value, error in cases:
        with pytest.raises(error):
            _verify_doc(_edited(doc, path=path, value=value), key=key)


def test_invalid_shard_names_rejected_when_parsing() -> None:
    doc, _ = _inclusion_doc()
    for name in BAD_SHARD_NAMES:
        with pytest.raises(ProofFormatError, match=r"entry\.shard"):
            parse_inclusion_response(_edited(doc, path=["entry", "shard"], value=name))
        with pytest.raises(CheckpointFormatError):
            parse_inclusion_response(
                _edited(doc, path=["checkpoint", "shards", 0, "shard"], value=name)
            )
    parse_inclusion_response(_edited(doc, path=["entry", "shard"], value="x" * 200))


def test_consistency_response_parsing_is_strict() -> None:
    doc, _ = _inclusion_doc()
    cp = doc["checkpoint"]
    good = {"old": cp, "new": cp, "shard": SHARD, "proof": []}
    assert parse_consistency_response(good).shard == SHARD
    for bad in ({**good, "extra": 0}, {**good, "shard": -1}, {**good, "proof": ["AA=="]}):
        with pytest.raises(ProofFormatError):
            parse_consistency_response(bad)
    for name in BAD_SHARD_NAMES:
        with pytest.raises(ProofFormatError, match=r"consistency response\.shard"):
            parse_consistency_response({**good, "shard": name})


def test_verify_package_imports_without_the_service(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    code = (
        "import sys, audit.verify, audit.verify.cli\n"
        "bad = [m for m in sys.modules\n"
        "       if m.startswith('audit.') and not m.startswith('audit.verify')]\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": str(src)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
