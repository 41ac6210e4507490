"""The scope catalogue of the Login Kit and Sound Kit: each scope's name and its plain words.

Part of the platform's contract (scope names travel in events and tokens; these words are what
the consent screen shows), so auth's registry and consent's screen read this one definition.
Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScopeInfo:
    """One scope an app may ask for, and what it lets the app do, in the user's words."""

    name: str
    description: str


CATALOGUE: tuple[ScopeInfo, ...] = (
    ScopeInfo(
        "user.info.basic", "See your display name and avatar in this app (an id only it knows)"
    ),
    ScopeInfo("user.info.profile", "See your profile: display name, avatar and bio"),
    ScopeInfo("user.info.stats", "See counts about your account, such as how many videos you have"),
    ScopeInfo("video.list", "See the list of your public videos: titles, covers and durations"),
    ScopeInfo("sound.upload", "Upload sounds from this app to your account as drafts"),
    ScopeInfo("sound.share", "Share sounds you choose from your account with this app"),
)
SCOPES: dict[str, ScopeInfo] = {scope.name: scope for scope in CATALOGUE}


def describe(name: str) -> str:
    """The plain words for a scope (KeyError for one not in the catalogue)."""
    return SCOPES[name].description
