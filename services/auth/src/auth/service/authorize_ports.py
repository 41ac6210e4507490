"""What the authorize flow needs besides the OAuth ports (oauth_ports.py): apps, sessions,
the flow store, and the two JWS of the consent hand-over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from auth.domain.apps import App
from auth.domain.consent_flow import Flow, Verdict
from auth.service.ports import Session


class AppReader(Protocol):
    """The app registry, as the OAuth server reads it."""

    async def get(self, client_id: str) -> App | None:
        """The app by client id, or None."""
        ...


class SessionReader(Protocol):
    """Platform sessions, by the cookie's token."""

    async def resolve(self, token: str) -> Session | None:
        """The live session, or None."""
        ...


class FlowExists(RuntimeError):
    """A flow with this id is already stored (the unique insert refused it)."""


class FlowStore(Protocol):
    """Flows waiting at the consent screen, by flow id."""

    async def add(self, flow: Flow) -> None:
        """Store a new flow by unique insert (FlowExists if its id is taken)."""
        ...

    async def get(self, flow_id: str) -> Flow | None:
        """The flow, if stored (expiry is the caller's check)."""
        ...

    async def claim(self, flow_id: str) -> bool:
        """Take the flow for good (`delete_one`): True for exactly one caller."""
        ...


@dataclass(frozen=True, slots=True)
class ChallengeFacts:
    """What the challenge says besides the flow (README "Hand-over" 2)."""

    app_id: str
    return_to: str


class ChallengeSigner(Protocol):
    """Signs the consent challenge (auth's platform keys, `kits-consent-challenge+jwt`)."""

    def sign(self, flow: Flow, *, facts: ChallengeFacts) -> str:
        """The compact JWS of the flow's challenge."""
        ...


class VerdictReader(Protocol):
    """Verifies consent's signed verdict (consent's JWKS)."""

    async def read(self, token: str) -> Verdict:
        """The verified verdict; VerdictRefused (forged, expired, malformed, keys away)."""
        ...
