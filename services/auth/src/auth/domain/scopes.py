"""The catalogue of scopes an app may be allowed, each with the words the consent screen shows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    """One permission an app may ask a user for."""

    name: str
    description: str  # plain words, shown to the user on the consent screen


CATALOGUE: tuple[Scope, ...] = (
    Scope("user.info.basic", "See your display name and avatar in this app (an id only it knows)"),
    Scope("user.info.profile", "See your profile: display name, avatar and bio"),
    Scope("user.info.stats", "See counts about your account, such as how many videos you have"),
    Scope("video.list", "See the list of your public videos: titles, covers and durations"),
    Scope("sound.upload", "Upload sounds from this app to your account as drafts"),
    Scope("sound.share", "Share sounds you choose from your account with this app"),
)
SCOPES: dict[str, Scope] = {scope.name: scope for scope in CATALOGUE}


def unknown_scopes(names: Iterable[str]) -> list[str]:
    """The names that are not in the catalogue, in the order given."""
    return [name for name in names if name not in SCOPES]


def describe(name: str) -> str:
    """The consent screen's words for a scope (KeyError for one not in the catalogue)."""
    return SCOPES[name].description
