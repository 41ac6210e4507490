"""What the app registry needs from storage; the Mongo adapters and the tests' fakes fit these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from auth.domain.apps import App


@dataclass(frozen=True, slots=True)
class Developer:
    """A developer account: registers and manages apps with its API key."""

    developer_id: str
    name: str


class DeveloperStore(Protocol):
    """Developer accounts and their API keys, the keys kept only as SHA-256 (hex) `_id`s."""

    async def add(self, developer: Developer, *, key_sha256: str, now: float) -> None:
        """Create the account and its first key."""

    async def get(self, developer_id: str) -> Developer | None:
        """The account, if it exists."""

    async def by_key(self, key_sha256: str) -> Developer | None:
        """The account whose key hashes to this (one `_id` read)."""

    async def replace_key(self, developer_id: str, *, key_sha256: str, now: float) -> None:
        """Add a new key and delete the account's other keys."""


@dataclass(frozen=True, slots=True)
class StoredApp:
    """The latest committed version of an app."""

    version: int
    app: App


class AppStore(Protocol):
    """Apps by client id, versioned: version `n` is claimed, then (after its event is durable)
    committed; readers see only committed versions. Every step is keyed by `_id`."""

    async def load(self, client_id: str) -> StoredApp | None:
        """The latest committed version, or None for an unknown app."""

    async def claim(self, client_id: str, *, version: int, now: float) -> None:
        """Take version `version` by a unique insert; VersionConflict if it is taken."""

    async def release(self, client_id: str, *, version: int) -> None:
        """Give back a claim whose change was abandoned (its event could not be published)."""

    async def clear_stale(self, client_id: str, *, version: int, older_than: float) -> bool:
        """Remove a claim left by a crashed writer (taken before `older_than`, never committed);
        True if one was removed."""

    async def commit(self, app: App, *, version: int) -> None:
        """Write the claimed version (a unique insert too); VersionConflict if it exists."""


class AppIndex(Protocol):
    """Each developer's client ids, one versioned document per developer."""

    async def load(self, developer_id: str) -> tuple[int, tuple[str, ...]]:
        """The index's version (0 if it has none yet) and the client ids in it."""

    async def save(self, developer_id: str, *, version: int, client_ids: tuple[str, ...]) -> None:
        """Write version `version`; VersionConflict if another writer took it."""
