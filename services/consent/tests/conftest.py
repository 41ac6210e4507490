"""Consent's fixtures live in `consent_fixtures.py` (type-checked; mypy skips this file's name)."""

from consent_fixtures import consent

__all__ = ["consent"]
