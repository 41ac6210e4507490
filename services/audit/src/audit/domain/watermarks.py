"""When has the ledger seen every event that happened before a given moment?

Each round the judge notes, per partition, the broker's end offset and the time it read it; once
the ledger group's committed offset reaches that end offset, every event produced before that
time has been stored. A transfer is judged only when the partitions holding its user's consent
events and its app's terms events have been reached past the transfer's own time, so a lagging
consumer delays a verdict instead of getting it wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Partition = tuple[str, int]


@dataclass
class Watermarks:
    """Per partition: pending (time, end offset) notes and the latest time fully reached."""

    pending: dict[Partition, list[tuple[float, int]]] = field(default_factory=dict)
    reached: dict[Partition, float] = field(default_factory=dict)

    def observe(
        self, *, now: float, ends: Mapping[Partition, int], committed: Mapping[Partition, int]
    ) -> None:
        """Record this round's end offsets; advance what the committed offsets have reached."""
        for partition, end in ends.items():
            notes = self.pending.setdefault(partition, [])
            notes.append((now, end))
            done = committed.get(partition, 0)
            while notes and notes[0][1] <= done:
                self.reached[partition] = notes.pop(0)[0]

    def covers(self, partition: Partition, moment: float) -> bool:
        """True once every event of the partition produced before `moment` is stored."""
        return self.reached.get(partition, float("-inf")) > moment
