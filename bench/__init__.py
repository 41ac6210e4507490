"""Benchmarks of the shared Kafka/Mongo foundation and of the audit ledger, on real servers.

Run `uv run python -m bench` (see `bench/__main__.py` for the options). Every run uses its own
fresh topics (`bench.<run id>.*`, retention one hour) and its own fresh databases (dropped at the
end), never the project's domain topics.
"""
