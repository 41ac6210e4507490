"""Tests of signed checkpoints, their strict JSON form and the verifier CLI."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from merkle_reference import extend

from audit.domain.merkle import CompactRange
from audit.domain.stored_tree import (
    consistency_proof_from_store,
    inclusion_proof_from_store,
    node_getter,
)
from audit.verify import (
    Checkpoint,
    CheckpointError,
    CheckpointFormatError,
    ConsistencyResponse,
    Entry,
    InclusionResponse,
    ShardHead,
    checkpoint_body,
    checkpoint_from_dict,
    checkpoint_to_dict,
    consistency_response_to_dict,
    format_time,
    inclusion_response_to_dict,
    key_id,
    leaf_hash,
    load_public_key,
    public_keys_by_id,
    sign_checkpoint,
    verify_checkpoint,
)
from audit.verify.cli import main

KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"test key").digest())
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"other key").digest())
KEYS = public_keys_by_id([KEY.public_key()])
ROOT_A, ROOT_B = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
TIME = "2025-01-31T12:00:00Z"
AUTH, CONSENT, TRANSFER = "auth.events/0", "consent.events/3", "transfer.events/5"
# Each is rejected as a shard name: 1-200 printable ASCII characters without spaces.
BAD_SHARD_NAMES: list[Any] = [
    "",
    "consent events/3",
    " consent.events/3",
    "consent.events/3\n",
    "consent.events/3\tx",
    "consent.\x7fevents/3",
    "consent.événements/3",
    "x" * 201,
    3,
    None,
    False,
    b"consent.events/3",
]


def _checkpoint() -> Checkpoint:
    heads = [
        ShardHead(shard=CONSENT, size=7, root=ROOT_B),
        ShardHead(shard=AUTH, size=12, root=ROOT_A),
    ]
    return sign_checkpoint(private_key=KEY, origin="audit.example/log", shards=heads, time=TIME)


def test_body_encoding_is_exact() -> None:
    checkpoint = _checkpoint()
    expected = (
        "audit-checkpoint/v1\n"
        "audit.example/log\n"
        f"shard auth.events/0 12 {base64.b64encode(ROOT_A).decode()}\n"
        f"shard consent.events/3 7 {base64.b64encode(ROOT_B).decode()}\n"
        f"time {TIME}\n"
    ).encode()
    body = checkpoint_body(origin=checkpoint.origin, shards=checkpoint.shards, time=TIME)
    assert body == expected
    KEY.public_key().verify(checkpoint.signature, expected)


def test_key_id_is_sha256_prefix_of_raw_key() -> None:
    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key_id(KEY.public_key()) == hashlib.sha256(raw).hexdigest()[:16]
    assert _checkpoint().key_id == key_id(KEY.public_key())


def test_round_trip_through_json() -> None:
    checkpoint = _checkpoint()
    text = json.dumps(checkpoint_to_dict(checkpoint))
    parsed = checkpoint_from_dict(json.loads(text))
    assert parsed == checkpoint
    verify_checkpoint(checkpoint=parsed, public_keys=KEYS)
    assert parsed.shard_head(CONSENT).size == 7
    assert parsed.shard_head(AUTH).size == 12
    assert [shard["shard"] for shard in json.loads(text)["shards"]] == [AUTH, CONSENT]
    for missing in ("consent.events/1", "consent.events/03", "Consent.events/3", "3"):
        with pytest.raises(CheckpointError, match=f"does not cover shard {re.escape(missing)}$"):
            parsed.shard_head(missing)


def test_tampered_checkpoints_rejected() -> None:
    checkpoint = _checkpoint()
    a, b = checkpoint.shards
    tampered = [
        dataclasses.replace(checkpoint, shards=(dataclasses.replace(a, size=11), b)),
        dataclasses.replace(checkpoint, shards=(dataclasses.replace(a, size=13), b)),
        dataclasses.replace(checkpoint, shards=(dataclasses.replace(a, root=ROOT_B), b)),
        dataclasses.replace(checkpoint, shards=(dataclasses.replace(a, shard="auth.events/1"), b)),
        dataclasses.replace(checkpoint, shards=(dataclasses.replace(a, shard="Auth.events/0"), b)),
        dataclasses.replace(checkpoint, shards=(a, dataclasses.replace(b, shard=TRANSFER))),
        dataclasses.replace(checkpoint, shards=(a,)),
        dataclasses.replace(checkpoint, time="2025-01-31T12:00:01Z"),
        dataclasses.replace(checkpoint, origin="audit.example/other"),
        dataclasses.replace(checkpoint, signature=bytes(64)),
    ]
    for bad in tampered:
        with pytest.raises(CheckpointError, match="signature does not verify"):
            verify_checkpoint(checkpoint=bad, public_keys=KEYS)


def test_key_lookup() -> None:
    checkpoint = _checkpoint()
    with pytest.raises(CheckpointError, match="unknown key id"):
        verify_checkpoint(checkpoint=checkpoint, public_keys={})
    with pytest.raises(CheckpointError, match="unknown key id"):
        verify_checkpoint(
            checkpoint=checkpoint, public_keys=public_keys_by_id([OTHER_KEY.public_key()])
        )
    with pytest.raises(CheckpointError, match="another key id"):
        verify_checkpoint(
            checkpoint=checkpoint, public_keys={checkpoint.key_id: OTHER_KEY.public_key()}
        )
    with pytest.raises(CheckpointFormatError, match="invalid key id"):
        verify_checkpoint(
            checkpoint=dataclasses.replace(checkpoint, key_id="ABC"), public_keys=KEYS
        )


def test_strict_json_form() -> None:
    doc: dict[str, Any] = checkpoint_to_dict(_checkpoint())

    def changed(**fields: Any) -> dict[str, Any]:
        return {**doc, **fields}

    shard0, shard1 = doc["shards"]
    bad_docs: list[Any] = [
        changed(extra=1),
        {k: v for k, v in doc.items() if k != "time"},
        changed(shards=[{**shard0, "extra": 1}]),
        changed(shards=[{**shard0, "size": "12"}]),
        changed(shards=[{**shard0, "size": -1}]),
        changed(shards=[{**shard0, "shard": False}]),
        *(changed(shards=[{**shard0, "shard": name}, shard1]) for name in BAD_SHARD_NAMES),
        *(changed(shards=[shard0, {**shard1, "shard": name}]) for name in BAD_SHARD_NAMES),
        changed(shards=[{**shard0, "root": shard0["root"] + "AA=="}]),
        changed(shards=[shard0, shard0]),
        changed(shards=list(reversed(doc["shards"]))),
        changed(shards=[shard0, {**shard1, "shard": shard0["shard"]}]),
        changed(shards=[shard0, shard1, shard0]),
        changed(shards=[]),
        changed(shards={}),
        changed(time="2025-01-31 12:00:00Z"),
        changed(time="2025-02-30T12:00:00Z"),
        changed(time="2025-01-31T12:00:00+00:00"),
        changed(origin=""),
        changed(origin=" padded"),
        changed(origin="two\nlines"),
        changed(key_id="0" * 15),
        changed(signature=base64.b64encode(bytes(63)).decode()),
        changed(signature=1),
        [doc],
    ]
    for bad in bad_docs:
        with pytest.raises(CheckpointFormatError):
            checkpoint_from_dict(bad)


def test_invalid_shard_names_rejected_when_signing_and_verifying() -> None:
    checkpoint = _checkpoint()
    a, b = checkpoint.shards
    for name in BAD_SHARD_NAMES:
        for heads in (
            [ShardHead(shard=name, size=1, root=ROOT_A)],
            [
                ShardHead(shard=AUTH, size=1, root=ROOT_A),
                ShardHead(shard=name, size=2, root=ROOT_B),
            ],
            [
                ShardHead(shard=name, size=1, root=ROOT_A),
                ShardHead(shard=AUTH, size=2, root=ROOT_B),
            ],
        ):
            with pytest.raises(CheckpointFormatError, match="invalid shard name"):
                sign_checkpoint(private_key=KEY, origin="o", shards=heads, time=TIME)
            with pytest.raises(CheckpointFormatError, match="invalid shard name"):
                checkpoint_body(origin="o", shards=heads, time=TIME)
        for shards in (
            (dataclasses.replace(a, shard=name), b),
            (a, dataclasses.replace(b, shard=name)),
        ):
            bad = dataclasses.replace(checkpoint, shards=shards)
            with pytest.raises(CheckpointFormatError, match="invalid shard name"):
                verify_checkpoint(checkpoint=bad, public_keys=KEYS)


def test_shard_name_limits_accepted() -> None:
    printable = "".join(chr(c) for c in range(0x21, 0x7F))
    names = ["x" * 200, "0", "!", "~", printable[:200], "consent.events/3"]
    heads = [ShardHead(shard=name, size=i, root=ROOT_A) for i, name in enumerate(names)]
    signed = sign_checkpoint(private_key=KEY, origin="o", shards=heads, time=TIME)
    verify_checkpoint(checkpoint=signed, public_keys=KEYS)
    parsed = checkpoint_from_dict(json.loads(json.dumps(checkpoint_to_dict(signed))))
    assert parsed == signed
    for i, name in enumerate(names):
        assert parsed.shard_head(name).size == i


def test_shards_sorted_by_name_when_signing() -> None:
    names = [
        TRANSFER,
        "consent.events/10",
        AUTH,
        CONSENT,
        "consent.events/2",
        "Consent.events/3",
        "consent.events",
    ]
    heads = [ShardHead(shard=name, size=i, root=ROOT_A) for i, name in enumerate(names)]
    signed = sign_checkpoint(private_key=KEY, origin="o", shards=heads, time=TIME)
    expected = [
        "Consent.events/3",  # code point (= ASCII byte) order: upper case first
        AUTH,
        "consent.events",  # a prefix sorts before its extensions
        "consent.events/10",  # string, not numeric, order
        "consent.events/2",
        CONSENT,
        TRANSFER,
    ]
    assert [head.shard for head in signed.shards] == expected
    assert expected == sorted(names, key=lambda name: name.encode("ascii"))
    assert {head.shard: head.size for head in signed.shards} == {n: i for i, n in enumerate(names)}
    body = checkpoint_body(origin="o", shards=signed.shards, time=TIME).decode()
    assert [
        line.split(" ")[1] for line in body.splitlines() if line.startswith("shard ")
    ] == expected
    verify_checkpoint(checkpoint=signed, public_keys=KEYS)
    assert sign_checkpoint(private_key=KEY, origin="o", shards=reversed(heads), time=TIME) == signed


def test_unsorted_or_duplicated_shards_rejected() -> None:
    checkpoint = _checkpoint()
    a, b = checkpoint.shards
    duplicates = [
        ShardHead(shard=AUTH, size=1, root=ROOT_A),
        ShardHead(shard=AUTH, size=2, root=ROOT_B),
    ]
    for heads in (duplicates, [a, a], [b, a, b]):
        with pytest.raises(CheckpointFormatError, match="once each, in ascending order"):
            sign_checkpoint(private_key=KEY, origin="o", shards=heads, time=TIME)
    for shards in ((b, a), (a, a), (a, b, a), (a, b, b), (a, dataclasses.replace(b, shard=AUTH))):
        with pytest.raises(CheckpointFormatError, match="once each, in ascending order"):
            checkpoint_body(origin=checkpoint.origin, shards=shards, time=TIME)
        bad = dataclasses.replace(checkpoint, shards=shards)
        with pytest.raises(CheckpointFormatError, match="once each, in ascending order"):
            verify_checkpoint(checkpoint=bad, public_keys=KEYS)
        with pytest.raises(CheckpointFormatError, match="once each, in ascending order"):
            checkpoint_from_dict(checkpoint_to_dict(bad))


def test_format_time_and_datetime_signing() -> None:
    moment = datetime(2025, 1, 31, 13, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(moment) == "2025-01-31T12:00:00.000005Z"
    assert format_time(datetime(2025, 1, 31, 12, tzinfo=UTC)) == TIME
    with pytest.raises(CheckpointFormatError):
        format_time(datetime(2025, 1, 31))  # naive on purpose
    heads = [ShardHead(shard=AUTH, size=0, root=ROOT_A)]
    signed = sign_checkpoint(private_key=KEY, origin="o", shards=heads, time=moment)
    verify_checkpoint(checkpoint=signed, public_keys=KEYS)


def test_load_public_key_formats() -> None:
    public = KEY.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for data in (pem, base64.b64encode(raw) + b"\n", raw):
        assert key_id(load_public_key(data)) == key_id(public)
    for bad in (b"-----BEGIN PUBLIC KEY-----\nxx\n", b"not base64!", base64.b64encode(b"short")):
        with pytest.raises(CheckpointFormatError):
            load_public_key(bad)


# --- CLI end to end ---


def _write(path: Path, *, doc: object) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def _files(tmp_path: Path) -> dict[str, str]:
    datas = [b'{"n":%d}' % i for i in range(11)]
    tree = CompactRange()
    store = {(n.level, n.index): n.hash for n in extend(tree, (leaf_hash(d) for d in datas[:6]))}
    old = sign_checkpoint(
        private_key=KEY,
        origin="log",
        time=TIME,
        shards=[ShardHead(shard=TRANSFER, size=6, root=tree.root())],
    )
    store.update(
        {(n.level, n.index): n.hash for n in extend(tree, (leaf_hash(d) for d in datas[6:]))}
    )
    new = sign_checkpoint(
        private_key=KEY,
        origin="log",
        time="2025-02-01T00:00:00Z",
        shards=[ShardHead(shard=TRANSFER, size=11, root=tree.root())],
    )
    get = node_getter(store)
    entry = Entry(id="e9", shard=TRANSFER, index=9, leaf_hash=leaf_hash(datas[9]), data=datas[9])
    proof = tuple(inclusion_proof_from_store(index=9, tree_size=11, get_node=get))
    cproof = tuple(consistency_proof_from_store(old_size=6, new_size=11, get_node=get))
    pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "key.pem").write_bytes(pem)
    inclusion = InclusionResponse(entry=entry, proof=proof, checkpoint=new)
    consistency = ConsistencyResponse(old=old, new=new, shard=TRANSFER, proof=cproof)
    return {
        "key": str(tmp_path / "key.pem"),
        "inclusion": _write(tmp_path / "inc.json", doc=inclusion_response_to_dict(inclusion)),
        "consistency": _write(tmp_path / "con.json", doc=consistency_response_to_dict(consistency)),
        "old": _write(tmp_path / "old.json", doc=checkpoint_to_dict(old)),
        "new": _write(tmp_path / "new.json", doc=checkpoint_to_dict(new)),
        "swapped": _write(
            tmp_path / "swap.json",
            doc=consistency_response_to_dict(dataclasses.replace(consistency, old=new, new=old)),
        ),
    }


def test_cli_success(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _files(tmp_path)
    key = ["--public-key", f["key"]]
    assert main(["verify", "inclusion", "--entry", f["inclusion"], *key]) == 0
    out = capsys.readouterr().out
    assert "OK: entry e9 is leaf 9 of shard transfer.events/5 (tree size 11)" in out
    assert (
        main(["verify", "inclusion", "--entry", f["inclusion"], "--checkpoint", f["new"], *key])
        == 0
    )
    assert main(["verify", "consistency", "--proof", f["consistency"], *key]) == 0
    out = capsys.readouterr().out
    assert "OK: shard transfer.events/5 of size 11 in" in out
    assert "extends size 6" in out
    assert main(["verify", "checkpoint", "--checkpoint", f["old"], *key]) == 0
    assert "shard transfer.events/5 size 6" in capsys.readouterr().out


def test_cli_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _files(tmp_path)
    key = ["--public-key", f["key"]]
    pinned = ["--checkpoint", f["old"]]
    assert main(["verify", "inclusion", "--entry", f["inclusion"], *pinned, *key]) == 1
    assert main(["verify", "consistency", "--proof", f["swapped"], *key]) == 1
    doc = json.loads(Path(f["inclusion"]).read_text())
    doc["entry"]["index"] = 8
    assert (
        main(["verify", "inclusion", "--entry", _write(tmp_path / "i8.json", doc=doc), *key]) == 1
    )
    other = tmp_path / "other.b64"
    other.write_bytes(base64.b64encode(OTHER_KEY.public_key().public_bytes_raw()))
    assert main(["verify", "checkpoint", "--checkpoint", f["new"], "--public-key", str(other)]) == 1
    assert "FAILED: unknown key id" in capsys.readouterr().out
    doc = json.loads(Path(f["inclusion"]).read_text())
    doc["entry"]["shard"] = "transfer.events/6"
    assert (
        main(["verify", "inclusion", "--entry", _write(tmp_path / "s6.json", doc=doc), *key]) == 1
    )
    assert "FAILED: checkpoint does not cover shard transfer.events/6" in capsys.readouterr().out


def test_cli_parse_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _files(tmp_path)
    key = ["--public-key", f["key"]]
    garbage = tmp_path / "garbage.json"
    garbage.write_text(Path(f["inclusion"]).read_text() + "garbage")
    assert main(["verify", "inclusion", "--entry", str(garbage), *key]) == 2
    doc = json.loads(Path(f["inclusion"]).read_text())
    doc["unexpected"] = True
    assert main(["verify", "inclusion", "--entry", _write(tmp_path / "x.json", doc=doc), *key]) == 2
    capsys.readouterr()
    doc = json.loads(Path(f["inclusion"]).read_text())
    for name in ("", "transfer events/5", "transfer.événements/5", "x" * 201, 5):
        doc["entry"]["shard"] = name
        path = _write(tmp_path / "bad_shard.json", doc=doc)
        assert main(["verify", "inclusion", "--entry", path, *key]) == 2
        assert "entry.shard" in capsys.readouterr().err
    doc = json.loads(Path(f["consistency"]).read_text())
    doc["shard"] = "transfer events/5"
    assert (
        main(["verify", "consistency", "--proof", _write(tmp_path / "c.json", doc=doc), *key]) == 2
    )
    assert main(["verify", "inclusion", "--entry", str(tmp_path / "missing.json"), *key]) == 2
    assert main(["verify", "checkpoint", "--checkpoint", f["new"], "--public-key", f["new"]]) == 2
    assert main(["verify", "inclusion", *key]) == 2
    assert main(["verify", "nonsense"]) == 2
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err
    assert main(["--help"]) == 0
