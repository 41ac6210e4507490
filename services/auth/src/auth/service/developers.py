"""Developer accounts: created by an operator, authenticated by an API key kept only as SHA-256.

An API key is 256 random bits, so its SHA-256 cannot be searched backwards the way a password's
can: a plain hash is as safe as a slow one here and costs one `_id` read per request.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from auth.domain.app_rules import check_text
from auth.service.app_ports import Developer, DeveloperStore

KEY_PREFIX = "kdk_"  # "kits developer key": recognisable in a secret scanner's rules
MAX_KEY_CHARS = 200
MAX_DEVELOPER_NAME_CHARS = 100


def new_secret(prefix: str) -> str:
    """A secret of 256 random bits, URL-safe, after a prefix that names its kind."""
    return prefix + secrets.token_urlsafe(32)


def sha256_hex(secret: str) -> str:
    """The stored form of a high-entropy secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Developers:
    """Create developer accounts, rotate and check their API keys."""

    def __init__(self, *, store: DeveloperStore) -> None:
        self._store = store

    async def create(self, *, name: str) -> tuple[Developer, str]:
        """A new account and its API key (the key is returned this once and never again)."""
        check_text(name, field="name", max_chars=MAX_DEVELOPER_NAME_CHARS)
        developer = Developer(developer_id="dev_" + secrets.token_hex(12), name=name)
        key = new_secret(KEY_PREFIX)
        await self._store.add(developer, key_sha256=sha256_hex(key), now=time.time())
        return developer, key

    async def rotate_key(self, developer_id: str) -> str | None:
        """A new API key for the account (the old ones stop working); None if no such account."""
        if await self._store.get(developer_id) is None:
            return None
        key = new_secret(KEY_PREFIX)
        await self._store.replace_key(developer_id, key_sha256=sha256_hex(key), now=time.time())
        return key

    async def authenticate(self, key: str) -> Developer | None:
        """The account this API key belongs to, or None."""
        if not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_CHARS:
            return None
        return await self._store.by_key(sha256_hex(key))
