"""What the deletion requests need from the outside; the Mongo/HTTP adapters and fakes fit these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from shared.events import CloudEvent

Outcome = Literal["confirmed", "refused", "no_answer"]


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where an app takes deletion requests: its `deletion_webhook_url`."""

    url: str


class WebhookTargets(Protocol):
    """The apps' deletion webhooks (core's app read model implements it)."""

    async def target(self, app_id: str) -> WebhookTarget | None:
        """The app's deletion webhook, or None when it declared none (or is unknown)."""


class EventPublisher(Protocol):
    """Durable publish: the shared `DurablePublisher`, or a test's fake."""

    async def publish(self, event: CloudEvent[Any], *, traceparent: str | None = None) -> Any:
        """Return once the broker acknowledged the event, or raise `PublishFailed` in time."""


@dataclass(frozen=True, slots=True)
class DeletionRequest:
    """One request to one app, keyed by (consent id, consent version); written once."""

    request_id: str
    app_id: str
    user_key: str
    consent_id: str
    consent_version: int
    pairwise_subject: str
    reason: str
    requested_at: float
    deadline: float


@dataclass(frozen=True, slots=True)
class Pending:
    """A request not yet concluded (a small collection the dispatcher scans)."""

    request: DeletionRequest
    announced: bool  # `consent.deletion_requested.v1` acknowledged by the broker


@dataclass(frozen=True, slots=True)
class Claim:
    """Attempt `attempt` of a request, taken by one instance before it sends."""

    request_id: str
    attempt: int
    owner: str
    claimed_at: float


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt got: a status code, or an error; written once."""

    request_id: str
    attempt: int
    started_at: float
    finished_at: float
    status_code: int | None
    error: str
    next_due_at: float | None  # None: this attempt concluded the request
    outcome: Outcome | None  # set on the concluding attempt
    detail: str = ""  # the outcome's detail, on the concluding attempt


@dataclass(frozen=True, slots=True)
class RecordedOutcome:
    """The request's conclusion; written once."""

    request_id: str
    outcome: Outcome
    detail: str
    recorded_at: float
    owner: str


class DeletionStore(Protocol):
    """Requests, pending ones, attempt claims and results, outcomes: every race a unique insert."""

    async def add_request(self, request: DeletionRequest) -> bool:
        """Insert once; False when this (consent id, version) was already requested."""

    async def get_request(self, request_id: str) -> DeletionRequest | None:
        """The request with this id."""

    async def add_pending(self, request: DeletionRequest) -> bool:
        """Insert once into the pending set; False when it is there already."""

    async def mark_announced(self, request_id: str) -> None:
        """Note that the requested event is on the broker (an idempotent flag)."""

    async def pending(self) -> list[Pending]:
        """Every pending request (the set is pruned as requests conclude)."""

    async def is_pending(self, request_id: str) -> bool:
        """Whether the request is still in the pending set."""

    async def remove_pending(self, request_id: str) -> None:
        """Drop a concluded request from the pending set."""

    async def claim(self, claim: Claim) -> bool:
        """Take attempt `claim.attempt` of a request; True for exactly one caller."""

    async def get_claim(self, request_id: str, attempt: int) -> Claim | None:
        """The claim of that attempt, if any."""

    async def add_result(self, result: AttemptResult) -> bool:
        """Record an attempt's result once; False when one is recorded already."""

    async def get_result(self, request_id: str, attempt: int) -> AttemptResult | None:
        """The recorded result of that attempt, if any."""

    async def add_outcome(self, outcome: RecordedOutcome) -> bool:
        """Record the conclusion once; False when one is recorded already."""

    async def get_outcome(self, request_id: str) -> RecordedOutcome | None:
        """The request's conclusion, if recorded."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one POST got: a status code, or the error that kept it from an answer."""

    status_code: int | None
    error: str = ""


class WebhookSender(Protocol):
    """Signs and POSTs one deletion request; never follows a redirect nor logs an answer's body."""

    async def send(self, *, url: str, secret: str, message_id: str, body: str) -> Delivery:
        """One attempt, bounded in time and size."""

    async def aclose(self) -> None:
        """Release connections (the dispatcher loop has stopped)."""
