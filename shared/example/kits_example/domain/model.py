"""The example's model: profiles, revoked consents, and the rule that decides a release."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

RELEASED_FIELDS = ("open_id", "username")
"""What an app receives of a profile; `open_id` is the app's own pairwise subject."""


class NoSuchProfile(LookupError):
    """The user has no profile here."""


class ReleaseRefused(Exception):
    """A rule forbids this release; the message says which (it is the 409's reason)."""


@dataclass(frozen=True, slots=True)
class Profile:
    """What the service holds about a user and may release to an app."""

    user_key: str
    username: str


@dataclass(frozen=True, slots=True)
class Revocation:
    """A consent the user withdrew: nothing may flow under it from then on."""

    consent_id: str
    version: int
    user_key: str
    app_id: str
    event_id: str
    revoked_at: datetime


@dataclass(frozen=True, slots=True)
class Released:
    """The exact bytes an app receives and their SHA-256, which the transfer record names."""

    body: bytes
    digest_sha256: str


def check_release(*, consent_id: str, revocation: Revocation | None) -> None:
    """Refuse a release under a revoked consent."""
    if revocation is not None:
        raise ReleaseRefused(
            f"consent {consent_id} was revoked (version {revocation.version}); "
            "nothing may be released under it"
        )


def release(profile: Profile, *, pairwise_subject: str) -> Released:
    """The bytes of a profile as an app sees it: compact JSON, fields in a fixed order."""
    shown = {"open_id": pairwise_subject, "username": profile.username}
    body = json.dumps(shown, separators=(",", ":")).encode()
    return Released(body=body, digest_sha256=hashlib.sha256(body).hexdigest())
