"""Sound's fixtures live in `sound_fixtures.py` (type-checked; mypy skips this file's name)."""

from sound_fixtures import sound

__all__ = ["sound"]
