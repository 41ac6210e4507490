"""Reading tree hashes from the store: only the O(log n) entries that hold the needed nodes."""

from __future__ import annotations

from collections.abc import Sequence

from audit.domain.merkle import GetNode, NodeId, nodes_for_root
from audit.domain.stored_tree import (
    consistency_proof_from_store,
    inclusion_proof_from_store,
    node_getter,
    nodes_for_consistency,
    nodes_for_inclusion,
    root_from_store,
)
from audit.service.ports import LedgerStore
from audit.verify.checkpoint import ShardHead


async def _getter(ledger: LedgerStore, shard: str, wanted: Sequence[NodeId]) -> GetNode:
    return node_getter(await ledger.nodes(shard, wanted))


async def shard_head(ledger: LedgerStore, shard: str) -> ShardHead:
    """The shard's current size and root."""
    size = (await ledger.tip(shard)).size
    return ShardHead(shard=shard, size=size, root=await root_at(ledger, shard, size))


async def root_at(ledger: LedgerStore, shard: str, size: int) -> bytes:
    """The root of the shard's tree when it had `size` entries."""
    get = await _getter(ledger, shard, nodes_for_root(tree_size=size))
    return root_from_store(tree_size=size, get_node=get)


async def inclusion(ledger: LedgerStore, shard: str, *, index: int, size: int) -> list[bytes]:
    """The inclusion proof of entry `index` in the tree of `size` entries."""
    get = await _getter(ledger, shard, nodes_for_inclusion(index=index, tree_size=size))
    return inclusion_proof_from_store(index=index, tree_size=size, get_node=get)


async def consistency(ledger: LedgerStore, shard: str, *, old: int, new: int) -> list[bytes]:
    """The consistency proof between the trees of `old` and `new` entries."""
    get = await _getter(ledger, shard, nodes_for_consistency(old_size=old, new_size=new))
    return consistency_proof_from_store(old_size=old, new_size=new, get_node=get)
