"""The transfer recorder: `transfer.recorded.v1` on Kafka, acknowledged before data leaves."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from auth.domain.grants import ConsentAnswer, Grant
from auth.service.oauth_ports import TransferNotRecorded
from shared.events import make_event
from shared.events.envelope import CONTENT_TYPE, new_event_id
from shared.events.transfer import TransferRecorded
from shared.kafka.publisher import DurablePublisher, PublishFailed

log = logging.getLogger(__name__)
_HEADERS = (("content-type", CONTENT_TYPE.encode()),)


class KafkaTransfers:
    """Implements `TransferRecorder` with the runtime's durable publisher (acks=all, the
    publish deadline), keyed by the user key so one user's transfers stay in order."""

    def __init__(
        self,
        *,
        publisher: DurablePublisher,
        source: str,
        topic: str = TransferRecorded.TOPIC,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._publisher, self._source, self._topic, self._clock = publisher, source, topic, clock

    async def record(
        self,
        *,
        grant: Grant,
        consent: ConsentAnswer,
        scopes_used: tuple[str, ...],
        fields_released: tuple[str, ...],
        body: bytes,
        request_id: str,
    ) -> None:
        """Returns once the broker acknowledged the record of `body`; TransferNotRecorded else."""
        try:
            data = _record(
                grant=grant,
                consent=consent,
                scopes_used=scopes_used,
                fields_released=fields_released,
                digest=hashlib.sha256(body).hexdigest(),
                request_id=request_id,
                at=datetime.fromtimestamp(self._clock(), UTC),
            )
        except ValidationError as exc:
            # A grant the contract refuses is a bug upstream; fail closed rather than release.
            log.error(
                "transfer record invalid", extra={"request_id": request_id, "error": str(exc)}
            )
            raise TransferNotRecorded("the transfer record is not valid") from exc
        event = make_event(data, source=self._source)
        try:
            # The producer's own send (FastStream's publish adds a layer per record): concurrent
            # requests' records share the producer's batches, each awaited until acknowledged.
            await self._publisher.publish_record(
                topic=self._topic, value=event.to_bytes(), key=event.key(), headers=_HEADERS
            )
        except PublishFailed as exc:
            raise TransferNotRecorded(str(exc)) from exc
        except Exception as exc:
            # Not acknowledged is not recorded, whatever the cause: FastStream raises its own
            # IncorrectState (not PublishFailed) when the broker never connected.
            raise TransferNotRecorded(f"publish failed: {exc!r}") from exc


def _record(
    *,
    grant: Grant,
    consent: ConsentAnswer,
    scopes_used: tuple[str, ...],
    fields_released: tuple[str, ...],
    digest: str,
    request_id: str,
    at: datetime,
) -> TransferRecorded:
    """The wire record: the consent as the check answered it (the grant's where it was silent)."""
    return TransferRecorded(
        transfer_id=f"tr_{new_event_id()}",
        app_id=grant.client_id,
        pairwise_subject=grant.pairwise_subject,
        user_key=grant.user_key,
        consent_id=consent.consent_id or grant.consent_id,
        consent_version=consent.version or grant.consent_version,
        terms_version=consent.terms_version or grant.terms_version,
        scopes_used=scopes_used,
        fields_released=fields_released,
        purpose=grant.purpose,
        request_id=request_id,
        released_at=at,
        digest_sha256=digest,
    )
