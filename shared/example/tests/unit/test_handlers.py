"""The example's use cases on fakes of their ports: fast, and most of the example's tests."""

from __future__ import annotations

import hashlib
import json

import pytest

from example_testing import (
    FakeProfileStore,
    FakePublisher,
    FakeRevokedConsents,
    new_key,
    release_of,
    revocation_of,
)
from kits_example.domain.model import RELEASED_FIELDS, NoSuchProfile, ReleaseRefused
from kits_example.entrypoints.schemas import ProfilePublic
from kits_example.service.handlers import Handlers, SaveProfile
from shared.events.transfer import TransferRecorded
from shared.kafka.publisher import PublishFailed


@pytest.fixture
def publisher() -> FakePublisher:
    """A publisher that keeps what it was given (set `failing` to act as a broker away)."""
    return FakePublisher()


@pytest.fixture
def handlers(publisher: FakePublisher) -> Handlers:
    """The use cases on in-memory fakes of their ports."""
    return Handlers(
        profiles=FakeProfileStore(),
        revoked=FakeRevokedConsents(),
        publisher=publisher,
        source="/example",
    )


async def with_profile(handlers: Handlers) -> str:
    user = new_key("uk")
    await handlers.save_profile(SaveProfile(user_key=user, username="ada_l"))
    return user


async def test_a_release_is_recorded_with_the_digest_of_the_exact_bytes_it_returns(
    handlers: Handlers, publisher: FakePublisher
) -> None:
    user = await with_profile(handlers)
    cmd = release_of(user, consent_id=new_key("c"))

    released = await handlers.release_profile(cmd)

    [event] = publisher.published
    record = event.data
    assert isinstance(record, TransferRecorded)
    assert record.digest_sha256 == hashlib.sha256(released.body).hexdigest()
    assert (record.transfer_id, event.id) == (released.transfer_id, released.event_id)
    assert (record.user_key, record.app_id, record.consent_id) == (user, cmd.app_id, cmd.consent_id)
    assert record.pairwise_subject == cmd.pairwise_subject
    assert record.fields_released == RELEASED_FIELDS
    assert (record.scopes_used, record.request_id) == (cmd.scopes, cmd.request_id)
    assert event.subject == user  # the Kafka key: one user's records stay in order
    assert json.loads(released.body) == {"open_id": cmd.pairwise_subject, "username": "ada_l"}
    assert ProfilePublic.model_validate_json(released.body).username == "ada_l"


async def test_a_revoked_consent_releases_nothing_and_records_nothing(
    handlers: Handlers, publisher: FakePublisher
) -> None:
    user, consent = await with_profile(handlers), new_key("c")
    assert await handlers.record_revocation(revocation_of(user, consent_id=consent))

    with pytest.raises(ReleaseRefused, match=f"consent {consent} was revoked"):
        await handlers.release_profile(release_of(user, consent_id=consent))
    assert publisher.published == []

    await handlers.release_profile(release_of(user, consent_id=new_key("c")))  # another consent
    assert len(publisher.published) == 1


async def test_a_transfer_that_cannot_be_recorded_releases_nothing(
    handlers: Handlers, publisher: FakePublisher
) -> None:
    user = await with_profile(handlers)
    publisher.failing = True

    with pytest.raises(PublishFailed):
        await handlers.release_profile(release_of(user, consent_id=new_key("c")))
    assert publisher.published == []


async def test_an_unknown_user_has_nothing_to_release(
    handlers: Handlers, publisher: FakePublisher
) -> None:
    with pytest.raises(NoSuchProfile):
        await handlers.release_profile(release_of(new_key("uk"), consent_id=new_key("c")))
    assert publisher.published == []


async def test_a_revocation_is_recorded_once_whatever_the_redeliveries(handlers: Handlers) -> None:
    user, consent = new_key("uk"), new_key("c")
    first = revocation_of(user, consent_id=consent)

    assert await handlers.record_revocation(first)
    assert not await handlers.record_revocation(first)  # a redelivery of the same event
    assert not await handlers.record_revocation(revocation_of(user, consent_id=consent))

    stored = await handlers.revoked.get(consent)
    assert stored is not None
    assert stored.event_id == first.event_id
