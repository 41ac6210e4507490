"""The audit processes collect young objects rarely: a batch's objects die by reference count
before a collection can promote them (at the default, a quarter of ingest's CPU went to GC)."""

from __future__ import annotations

import gc

from audit.bootstrap import COLLECTOR_THRESHOLDS, tune_collector


def test_the_audit_processes_collect_young_objects_after_50000_allocations() -> None:
    before = gc.get_threshold()
    try:
        tune_collector()
        assert gc.get_threshold() == COLLECTOR_THRESHOLDS
        assert COLLECTOR_THRESHOLDS[0] >= 50_000  # more than a batch of 1,000 events allocates
    finally:
        gc.set_threshold(*before)
