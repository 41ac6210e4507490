"""An app as consent knows it: what auth's events last said it declares (a read model)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from consent.domain.model import Terms

KEEP_APPLIED = 100  # event ids remembered per app: redeliveries come in order, soon after


@dataclass(frozen=True, slots=True)
class App:
    """A registered app: its name, the scopes it may ask for, its current terms."""

    app_id: str
    name: str
    allowed_scopes: tuple[str, ...]
    terms: Terms
    terms_url: str
    deletion_webhook_url: str | None
    applied: tuple[str, ...] = ()

    def has_applied(self, event_id: str) -> bool:
        """Whether this app's read model already took in that event (a redelivery)."""
        return event_id in self.applied

    def after(self, event_id: str, **changes: object) -> App:
        """The app once an event changed it, the event remembered."""
        applied = (*self.applied, event_id)[-KEEP_APPLIED:]
        return replace(self, applied=applied, **changes)  # type: ignore[arg-type]
