"""The catalogue of scopes an app may be allowed: the platform's one definition, in
`shared/scopes.py` (standard library only; consent's screen shows the same words)."""

from __future__ import annotations

from collections.abc import Iterable

from shared.scopes import CATALOGUE, SCOPES, ScopeInfo, describe

Scope = ScopeInfo

__all__ = ["CATALOGUE", "SCOPES", "Scope", "describe", "unknown_scopes"]


def unknown_scopes(names: Iterable[str]) -> list[str]:
    """The names that are not in the catalogue, in the order given."""
    return [name for name in names if name not in SCOPES]
