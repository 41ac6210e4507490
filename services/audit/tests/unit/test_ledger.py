"""Shard logs embed every completed node in the entry that completed it."""

from __future__ import annotations

import dataclasses
import json

from merkle_reference import inclusion_proof, root_from_leaf_hashes

from audit.adapters.chunks import holder_of
from audit.domain.integrity import Anchor
from audit.domain.ledger import Record, ShardLog
from audit.domain.merkle import CompactRange
from audit.domain.stored_tree import inclusion_proof_from_store, node_getter, nodes_for_inclusion
from audit_testing import audit_shard, node_of


def record(i: int) -> Record:
    data = json.dumps({"id": f"e{i}", "n": i}).encode()
    return Record(
        event_id=f"e{i}",
        shard="s/0",
        offset=10 + i,
        data=data,
    )


def test_entries_hold_the_nodes_needed_for_every_proof() -> None:
    log = ShardLog(shard="s/0", tree=CompactRange())
    entries = {i: log.append(record(i)) for i in range(37)}
    leaves = [entries[i].leaf for i in range(37)]
    assert log.root() == root_from_leaf_hashes(leaves)
    for size in (1, 2, 7, 16, 37):
        for index in range(size):
            wanted = nodes_for_inclusion(index=index, tree_size=size)
            assert all(holder_of(n) < size for n in wanted)
            got = {(lv, i): node_of(entries[holder_of((lv, i))], lv) for lv, i in wanted}
            proof = inclusion_proof_from_store(
                index=index, tree_size=size, get_node=node_getter(got)
            )
            assert proof == inclusion_proof(index=index, leaf_hashes=leaves[:size])


def test_a_clean_shard_audits_clean_against_its_anchors() -> None:
    log = ShardLog(shard="s/0", tree=CompactRange())
    entries = [log.append(record(i)) for i in range(20)]
    tree = CompactRange()
    anchors = []
    for e in entries:
        tree.push(e.leaf)
        if tree.size % 5 == 0:
            anchors.append(Anchor(checkpoint_id=f"cp{tree.size}", size=tree.size, root=tree.root()))
    assert audit_shard("s/0", entries, anchors) == []
    [finding] = audit_shard("s/0", entries[:12], anchors)
    assert finding.index == 12
    assert "tail cut off" in finding.problem


def test_an_anchor_at_size_zero_does_not_hide_the_others() -> None:
    log = ShardLog(shard="s/0", tree=CompactRange())
    entries = [log.append(record(i)) for i in range(3)]
    empty = CompactRange().root()
    anchors = [Anchor("cp0", 0, empty), Anchor("cp3", 3, log.root())]
    assert audit_shard("s/0", entries, anchors) == []
    [finding] = audit_shard("s/0", entries, [Anchor("bad", 0, b"\x01" * 32)])
    assert "non-empty root" in finding.problem


def test_a_rewritten_or_added_stored_node_is_located_to_its_entry() -> None:
    log = ShardLog(shard="s/0", tree=CompactRange())
    entries = [log.append(record(i)) for i in range(8)]
    assert len(entries[3].nodes) == 2
    assert entries[2].nodes == ()
    forged = dataclasses.replace(entries[3], nodes=(entries[3].nodes[0], b"\x07" * 32))
    [finding] = audit_shard("s/0", [*entries[:3], forged, *entries[4:]], [])
    assert (finding.index, finding.event_id) == (3, "e3")
    assert "stored tree nodes do not match" in finding.problem
    added = dataclasses.replace(entries[2], nodes=(b"\x07" * 32,))
    [finding] = audit_shard("s/0", [*entries[:2], added, *entries[3:]], [])
    assert (finding.index, finding.event_id) == (2, "e2")
