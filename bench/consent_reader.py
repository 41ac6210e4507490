"""D1's other process: a read model of consent events that prints when it starts refusing.

`python -m bench.consent_reader BOOTSTRAP TOPIC`: reads the topic from its beginning (a topic of
the bench run, never a domain topic), keeps consent id -> allowed, prints `ready` once at the end
of every partition, then one JSON line `{"consent_id", "t"}` (wall clock) the moment it applies
a `consent.revoked.v1`, that is, from when its answer for that consent is a refusal.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from aiokafka import AIOKafkaConsumer

from shared.events import InvalidEvent, parse
from shared.events.consent import ConsentGranted, ConsentRenewed, ConsentRevoked
from shared.kafka.broker import topic_partitions


async def follow(bootstrap: str, topic: str) -> None:
    """Until killed."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=5
    )
    await consumer.start()
    allowed: dict[str, bool] = {}
    try:
        parts = await topic_partitions(consumer, topic)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        ready = False
        while True:
            batches = await consumer.getmany(timeout_ms=50)
            for records in batches.values():
                for record in records:
                    _apply(record.value or b"", allowed)
            if not ready and all([await consumer.position(tp) >= ends[tp] for tp in parts]):
                ready = True
                _say("ready")
    finally:
        await consumer.stop()


def _apply(raw: bytes, allowed: dict[str, bool]) -> None:
    try:
        event = parse(raw)
    except InvalidEvent:
        return
    data = event.data
    if isinstance(data, ConsentGranted | ConsentRenewed):
        allowed[data.consent_id] = True
    elif isinstance(data, ConsentRevoked) and allowed.get(data.consent_id, True):
        allowed[data.consent_id] = False
        _say(json.dumps({"consent_id": data.consent_id, "t": time.time()}))


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(follow(sys.argv[1], sys.argv[2]))
