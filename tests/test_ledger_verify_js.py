"""The browser's ledger verifier (auth's static `ledger-verify.js`) in Debian's chromium.

It must compute what the Python verifier computes: the RFC 6962 known-answer vectors, every
inclusion proof of small trees, and on every corrupted input the same refusal at the same step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from merkle_reference import inclusion_proof, root_from_leaf_hashes
from playwright.async_api import Page

from audit.verify import (
    Entry,
    InclusionResponse,
    ShardHead,
    inclusion_response_to_dict,
    leaf_hash,
    sign_checkpoint,
)
from kits_browser import live_server, record_requests
from kits_browser_fixtures import NewContext
from ledger_tamper import tamper_matrix
from ledger_verify_testing import (
    b64,
    in_page,
    js_entry_steps,
    keys_of,
    open_verifier,
    python_entry_step,
    python_inclusion_step,
    verifier_site,
)
from rfc6962_vectors import EMPTY_ROOT, INCLUSION_PROOFS, INPUTS, LEAF_VECTORS, NODE_VECTORS, ROOTS

HASHES = [leaf_hash(data) for data in INPUTS]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


HASHER = """
const each = (list, f) => Promise.all(list.map(f));
return {
  leaves: await each(arg.leaves, async (d) => v.toHex(await v.leafHash(hex(d)))),
  nodes: await each(arg.nodes, async ([l, r]) => v.toHex(await v.nodeHash(hex(l), hex(r)))),
};
"""


@pytest.fixture
async def verifier(new_context: NewContext) -> AsyncIterator[Page]:
    """A page on its own origin with the script loaded; nothing fetched from anywhere else."""
    context = await new_context()
    requests = record_requests(context)
    page = await context.new_page()
    async with live_server(verifier_site(), lifespan="off") as site:
        await open_verifier(page, site)
        yield page
        assert requests.foreign(site) == []


async def test_the_hasher_gives_the_rfc_6962_vectors(verifier: Page) -> None:
    got = await in_page(
        verifier,
        HASHER,
        {
            "leaves": [d.hex() for d, _ in LEAF_VECTORS] + [d.hex() for d in INPUTS],
            "nodes": [[left.hex(), right.hex()] for left, right, _ in NODE_VECTORS],
        },
    )
    assert got["leaves"] == [h for _, h in LEAF_VECTORS] + [h.hex() for h in HASHES]
    assert got["nodes"] == [h for _, _, h in NODE_VECTORS]


ROOT_OF = (
    "return await Promise.all(arg.map(async (c) => { try {"
    " return v.toHex(await v.rootFromInclusionProof({leafHash: hex(c.leaf), index: c.index,"
    "   treeSize: c.size, proof: c.proof.map(hex)})); }"
    " catch (e) { return 'error ' + e.step + ': ' + e.message; } }));"
)


async def test_known_inclusion_proofs_lead_to_the_known_roots(verifier: Page) -> None:
    cases: list[dict[str, Any]] = [
        {"leaf": HASHES[index].hex(), "index": index, "size": size, "proof": path}
        for index, size, path in INCLUSION_PROOFS
    ]
    # And every leaf of every reference tree, with the reference PATH.
    cases += [
        {
            "leaf": HASHES[index].hex(),
            "index": index,
            "size": size,
            "proof": [h.hex() for h in inclusion_proof(index=index, leaf_hashes=HASHES[:size])],
        }
        for size in range(1, 9)
        for index in range(size)
    ]
    got = await in_page(verifier, ROOT_OF, cases)
    assert got == [ROOTS[c["size"] - 1] for c in cases]


def _probes(
    *, index: int, size: int, proof: list[bytes], leaf: bytes, root: bytes
) -> list[dict[str, Any]]:
    """The right arguments ("right"), then each wrong one the Python verifier's tests try."""
    changes: list[tuple[str, dict[str, Any]]] = [
        ("index -1", {"index": index - 1}),
        ("index +1", {"index": index + 1}),
        ("index ^2", {"index": index ^ 2}),
        ("size *2", {"size": size * 2}),
        ("size //2", {"size": size // 2}),
        ("size -1", {"size": size - 1}),
        ("size +1", {"size": size + 1}),
        ("wrong leaf", {"leaf": leaf_hash(b"WrongLeaf")}),
        ("empty root", {"root": bytes.fromhex(EMPTY_ROOT)}),
        ("other root", {"root": SOME_HASH}),
    ]
    for i, element in enumerate(proof):
        for byte, mask in ((0, 0x08), (31, 0x80)):
            flipped = bytearray(element)
            flipped[byte] ^= mask
            changes.append(
                ("bit flipped", {"proof": [*proof[:i], bytes(flipped), *proof[i + 1 :]]})
            )
        changes.append(("element removed", {"proof": proof[:i] + proof[i + 1 :]}))
    for i in range(len(proof) + 1):
        for extra in (bytes(32), root, *proof[:1]):
            changes.append(("element added", {"proof": [*proof[:i], extra, *proof[i:]]}))
    base = {"leaf": leaf, "index": index, "size": size, "proof": proof, "root": root}
    probes = [{"name": "right", **base}] + [{**base, "name": n, **c} for n, c in changes]
    return [p for p in probes if p["index"] >= 0]


def _hex_case(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "leaf": case["leaf"].hex(),
        "index": case["index"],
        "size": case["size"],
        "proof": [p.hex() for p in case["proof"]],
        "root": case["root"].hex(),
    }


async def test_inclusion_checks_agree_with_the_python_verifier_on_every_probe(
    verifier: Page,
) -> None:
    hashes = [leaf_hash(b"entry %d" % i) for i in range(17)]
    cases: list[dict[str, Any]] = []
    for size in range(1, 18):
        root = root_from_leaf_hashes(hashes[:size])
        for index in range(size):
            proof = inclusion_proof(index=index, leaf_hashes=hashes[:size])
            cases += _probes(index=index, size=size, proof=proof, leaf=hashes[index], root=root)
    expected = [python_inclusion_step(**{k: v for k, v in c.items() if k != "name"}) for c in cases]
    got = await in_page(
        verifier,
        "return await Promise.all(arg.map(async (c) => { try {"
        " await v.verifyInclusion({leafHash: hex(c.leaf), index: c.index, treeSize: c.size,"
        "   proof: c.proof.map(hex), root: hex(c.root)}); return null; }"
        " catch (e) { return e.step; } }));",
        [_hex_case(c) for c in cases],
    )
    assert got == expected
    assert set(expected) == {"proof", "root", None}
    # Accepted: the right proofs, and a size +-1 that RFC 6962 cannot tell from the right one
    # (leaf 0 of 8 has the path it has in a tree of 7): the signed checkpoint binds the size.
    accepted = {c["name"] for c, step in zip(cases, expected, strict=True) if step is None}
    assert accepted == {"right", "size -1", "size +1"}
    assert all(s is None for c, s in zip(cases, expected, strict=True) if c["name"] == "right")


def _synthetic_ledger() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Entry responses of a three-shard ledger under one signed checkpoint, and its keys."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    sizes = {"auth.events/0": 1, "consent.events/1": 6, "transfer.events/2": 13}
    datas = {
        s: [b'{"id":"%s-%d","data":{}}' % (s.encode(), i) for i in range(n)]
        for s, n in sizes.items()
    }
    heads = [
        ShardHead(shard=s, size=n, root=root_from_leaf_hashes([leaf_hash(d) for d in datas[s]]))
        for s, n in sizes.items()
    ]
    checkpoint = sign_checkpoint(
        private_key=key, origin="kits.audit/test", shards=heads, time="2026-12-02T08:00:00.5Z"
    )
    responses = []
    for shard, index in [
        ("auth.events/0", 0),
        ("consent.events/1", 3),
        ("transfer.events/2", 12),
        ("transfer.events/2", 5),
    ]:
        hashes = [leaf_hash(d) for d in datas[shard]]
        entry = Entry(
            id=f"{shard}-{index}",
            shard=shard,
            index=index,
            leaf_hash=hashes[index],
            data=datas[shard][index],
        )
        proof = tuple(inclusion_proof(index=index, leaf_hashes=hashes))
        responses.append(
            inclusion_response_to_dict(
                InclusionResponse(entry=entry, proof=proof, checkpoint=checkpoint)
            )
        )
    public = key.public_key().public_bytes_raw()
    keys = {
        "keys": [
            {
                "key_id": checkpoint.key_id,
                "algorithm": "Ed25519",
                "public_key": b64(public),
                "status": "current",
            }
        ]
    }
    return responses, keys


async def test_every_tampered_response_fails_where_the_python_verifier_fails(
    verifier: Page,
) -> None:
    responses, keys = _synthetic_ledger()
    assert await js_entry_steps(verifier, responses, keys) == [
        {"ok": True, "step": None, "reason": None}
    ] * len(responses)
    for n, doc in enumerate(responses):
        cases = tamper_matrix(doc, other=responses[n - 1])
        expected = [python_entry_step(bad, keys_of(keys)) for _, bad in cases]
        got = await js_entry_steps(verifier, [bad for _, bad in cases], keys)
        steps = [r["step"] for r in got]
        assert [name for (name, _), r in zip(cases, got, strict=True) if r["ok"]] == []
        assert dict(zip([c[0] for c in cases], steps, strict=True)) == dict(
            zip([c[0] for c in cases], expected, strict=True)
        )
        assert None not in expected
    # Every step of the verification is reached by some corruption.
    assert {"format", "key", "signature", "leaf", "shard", "proof", "root"} <= set(expected)


async def test_a_key_the_checkpoint_does_not_name_and_a_bad_keys_document_are_refused(
    verifier: Page,
) -> None:
    responses, keys = _synthetic_ledger()
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    stranger = {"keys": [{**keys["keys"][0], "public_key": b64(other), "key_id": "0" * 16}]}
    got = await in_page(
        verifier,
        "const out = [];"
        "for (const k of arg.keys) out.push(plain(await v.verifyEntry(arg.response, k)));"
        "return out;",
        {
            "response": responses[0],
            "keys": [
                {"keys": []},
                stranger,
                {"nope": 1},
                {"keys": [{**keys["keys"][0], "algorithm": "RSA"}]},
            ],
        },
    )
    assert [r["step"] for r in got] == ["key", "keys", "keys", "keys"]
    assert python_entry_step(responses[0], {}) == "key"
