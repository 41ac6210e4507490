"""Ports (what the handlers need) and one handler per use case."""
