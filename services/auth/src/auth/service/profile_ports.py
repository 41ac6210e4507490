"""What the profile handlers need from the outside: a versioned document store."""

from __future__ import annotations

from typing import Any, Protocol


class StoredVersion(Protocol):
    """One version of a document (`MongoVersioned`'s `Versioned` fits)."""

    @property
    def version(self) -> int:
        """Its number: 1 for the first write."""

    @property
    def body(self) -> dict[str, Any]:
        """Its content."""


class VersionedStore(Protocol):
    """Documents written once per version (`adapters/mongo_versioned.py`)."""

    async def load(self, key: str) -> StoredVersion | None:
        """The latest version of `key`, or None."""

    async def save(self, key: str, *, version: int, body: dict[str, Any]) -> None:
        """Write `version`; `VersionConflict` when another writer won it."""

    async def delete(self, key: str) -> int:
        """Remove every version of `key`."""
