"""Browser fixtures every page test shares (loaded by the root conftest.py as a plugin).

pytest-playwright provides `playwright`, `browser` (one per test session), `context` and
`page` (fresh per test); this points its launch at Debian's chromium.
"""

from __future__ import annotations

from typing import Any

import pytest

from kits_browser import launch_args


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, with Debian's chromium (installed on first use)."""
    return launch_args(browser_type_launch_args)
