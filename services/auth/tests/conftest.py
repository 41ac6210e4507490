"""Auth's fixtures live in `auth_fixtures.py` and `token_fixtures.py` (type-checked; mypy skips
this file's name)."""

from token_fixtures import tokens

from auth_fixtures import auth

__all__ = ["auth", "tokens"]
