"""The full audit over the stored ledger: every shard recomputed against signed checkpoints."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.domain.integrity import Anchor, Finding, ShardAudit
from audit.service.ports import CheckpointStore, LedgerStore, UnreadableEntries
from audit.verify.checkpoint import Checkpoint, verify_checkpoint
from audit.verify.errors import VerifyError


@dataclass(frozen=True)
class AuditResult:
    """What the full audit found: nothing, or the first bad place per shard."""

    shards: int
    entries: int
    """Entries checked: every stored entry, unless a finding stopped a shard's check early."""
    checkpoints: int
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """True when every shard matched every signed checkpoint."""
        return not self.findings


async def full_audit(
    *,
    ledger: LedgerStore,
    checkpoints: CheckpointStore,
    public_keys: Mapping[str, Ed25519PublicKey],
) -> AuditResult:
    """Recompute every tree from the stored entries; name the first entry that does not match."""
    stored = await checkpoints.all()
    findings: list[Finding] = []
    anchors: dict[str, list[Anchor]] = {}
    for item in stored:
        problem = _signature_problem(item.checkpoint, public_keys=public_keys)
        if problem is not None:
            findings.append(
                Finding(
                    "*", 0, None, f"checkpoint {item.checkpoint_id} fails verification: {problem}"
                )
            )
            continue
        for head in item.checkpoint.shards:
            anchors.setdefault(head.shard, []).append(
                Anchor(checkpoint_id=item.checkpoint_id, size=head.size, root=head.root)
            )
    shards = sorted(set(await ledger.shards()) | set(anchors))
    entries = 0
    for shard in shards:
        audit = ShardAudit(shard, anchors.get(shard, []))
        try:
            async with contextlib.aclosing(ledger.batches(shard)) as batches:
                async for batch in batches:
                    if not audit.feed(batch):
                        break
        except UnreadableEntries as exc:
            audit.stop(exc.start, str(exc))
        findings += audit.finish()
        entries += audit.entries
    return AuditResult(
        shards=len(shards), entries=entries, checkpoints=len(stored), findings=findings
    )


def _signature_problem(
    checkpoint: Checkpoint, *, public_keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    if checkpoint.key_id not in public_keys:
        return (
            f"it is signed with key {checkpoint.key_id}, which is not among the verification "
            f"keys ({', '.join(sorted(public_keys)) or 'none'}): a retired key stays listed "
            "as long as its checkpoints are kept"
        )
    try:
        verify_checkpoint(checkpoint=checkpoint, public_keys=public_keys)
    except VerifyError as exc:
        return str(exc)
    return None
