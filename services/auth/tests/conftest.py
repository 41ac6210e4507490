"""Auth's fixtures live in `auth_fixtures.py` (type-checked; mypy skips this file's name)."""

from auth_fixtures import auth

__all__ = ["auth"]
