"""The browser verifies real ledger entries fetched from a real audit, as the dashboard will.

A real audit (its own topics on the real broker, the real database) serves over HTTP with CORS
for the page's origin; the page fetches each entry with its user's token and the keys, and the
script says ok where the Python verifier does, and fails where it fails on every corruption.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import Page
from pymongo import AsyncMongoClient

from audit.main import create_app
from audit_events import granted, transfer
from audit_testing import at, audit_settings, new_user, user_token
from kits_browser import live_server
from kits_browser_fixtures import NewContext
from kits_testing import Servers, eventually
from ledger_tamper import tamper_matrix
from ledger_verify_testing import (
    in_page,
    js_entry_steps,
    keys_of,
    open_verifier,
    python_entry_step,
    unb64,
    verifier_site,
)
from shared.events import CloudEvent, EventData, make_event
from shared.kafka.broker import make_broker
from shared.kafka.publisher import DurablePublisher
from shared.settings import ServiceSettings
from shared.topics import DOMAIN_PARTITIONS

pytestmark = pytest.mark.integration
Send = Callable[[str, EventData], Awaitable[CloudEvent[Any]]]
FETCH = """
const r = await v.fetchAndVerify(arg);
return {...plain(r), data: r.ok ? v.b64encode(r.entry.data) : null};
"""

BOUND = """
const out = [];
for (const eventId of arg.ids) {
  out.push(plain(await v.verifyEntry(arg.response, arg.keys, { eventId })));
}
return out;
"""


@contextlib.asynccontextmanager
async def producer(servers: Servers) -> AsyncIterator[Send]:
    """`await send(topic, data)`: an event keyed by its subject, as the services produce it."""
    broker = make_broker(
        ServiceSettings(
            environment="development",
            service_name="t-verify",
            kafka_bootstrap_servers=servers.kafka,
        )
    )
    await broker.start()
    publisher = DurablePublisher(broker=broker, deadline_s=10)

    async def send(topic: str, data: EventData) -> CloudEvent[Any]:
        event = make_event(data, source="/t-verify")
        await publisher.publish_raw(
            topic=topic, value=event.to_bytes(), key=event.key(), headers={}
        )
        return event

    try:
        yield send
    finally:
        await broker.stop()


async def covered(audit: str, event: CloudEvent[Any]) -> dict[str, Any]:
    """The entry response, once a signed checkpoint covers the event (with its user's token)."""
    holder: dict[str, Any] = {}
    url = f"{audit}/ledger/entries/{event.id}"
    headers = {"Authorization": f"Bearer {user_token(event.subject)}"}

    async def ready() -> bool:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(url, params={"subject": event.subject}, headers=headers)
        holder["body"] = response.json()
        return response.status_code == 200

    await eventually(ready, timeout_s=60)
    body: dict[str, Any] = holder["body"]
    return body


async def _fetch_in_page(page: Page, *, audit: str, event: CloudEvent[Any], token: str) -> Any:
    arg = {"auditUrl": audit, "eventId": event.id, "subject": event.subject, "token": token}
    return await in_page(page, FETCH, arg)


async def test_real_entries_verify_in_the_browser_and_every_corruption_fails(
    servers: Servers,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    new_context: NewContext,
    make_topic: Callable[..., Awaitable[str]],
    unique: Callable[[str], str],
) -> None:
    topics = [
        await make_topic(unique(f"t-verify-{name}"), partitions=DOMAIN_PARTITIONS)
        for name in ("consent", "transfer")
    ]
    page = await (await new_context()).new_page()
    connect_src: list[str] = []  # the page may fetch from the audit only
    async with live_server(verifier_site(connect_src), lifespan="off") as site:
        settings = audit_settings(servers, ledger_topics=",".join(topics), cors_origins=site)
        try:
            async with live_server(create_app(settings)) as audit, producer(servers) as send:
                connect_src.append(audit)
                await open_verifier(page, site)
                await _check_entries(page, audit=audit, site=site, send=send, topics=topics)
        finally:
            await mongo_client.drop_database(settings.database_name)


async def _check_entries(
    page: Page, *, audit: str, site: str, send: Send, topics: list[str]
) -> None:
    app = f"app_{uuid.uuid4().hex[:8]}"
    events = []
    for user in (new_user(), new_user(), new_user()):
        events.append(await send(topics[0], granted(user, app)))
        for _ in range(3):
            events.append(await send(topics[1], transfer(user, app, when=at())))
    responses = [await covered(audit, event) for event in events]
    async with httpx.AsyncClient(timeout=10) as http:
        keys = (await http.get(f"{audit}/ledger/keys")).json()
    await _check_verified(page, events=events, responses=responses, keys=keys)
    await _check_fetched(page, audit=audit, site=site, events=events)
    await _check_tampered(page, responses=responses, keys=keys)


OK = {"ok": True, "step": None, "reason": None}


async def _check_verified(
    page: Page, *, events: list[CloudEvent[Any]], responses: list[Any], keys: Any
) -> None:
    """The Python verifier and the script agree: every real entry verifies, as its own event."""
    assert [python_entry_step(r, keys_of(keys)) for r in responses] == [None] * len(events)
    assert await js_entry_steps(page, responses, keys) == [OK] * len(events)
    assert len({r["entry"]["shard"] for r in responses}) > 1
    # A valid proof of another event is not this event's.
    ids = [e.id for e in events[:2]]
    bound = await in_page(page, BOUND, {"response": responses[0], "keys": keys, "ids": ids})
    assert [r["step"] for r in bound] == [None, "event"]
    assert bound[1]["reason"] == f'the entry is event "{events[0].id}", not {events[1].id}'


async def _check_fetched(
    page: Page, *, audit: str, site: str, events: list[CloudEvent[Any]]
) -> None:
    """The page fetches across origins (CORS) with the user's own token, and only so."""
    for event in events:
        got = await _fetch_in_page(page, audit=audit, event=event, token=user_token(event.subject))
        assert {k: got[k] for k in OK} == OK, got
        assert unb64(got["data"]) == event.to_bytes()
    first, url = events[0], _entry_url(audit, events[0])
    other = await _fetch_in_page(page, audit=audit, event=first, token=user_token(new_user()))
    assert (other["step"], other["reason"]) == ("fetch", f"{url} answered 404")
    forged = await _fetch_in_page(page, audit=audit, event=first, token="not-a-token")
    assert (forged["step"], forged["reason"]) == ("fetch", f"{url} answered 401")
    # The same page on an origin the audit does not list may not read the ledger.
    await open_verifier(page, site.replace("127.0.0.1", "localhost"))
    token = user_token(first.subject)
    refused = await _fetch_in_page(page, audit=audit, event=first, token=token)
    assert refused["step"] == "fetch"
    assert "could not be fetched" in refused["reason"]


async def _check_tampered(page: Page, *, responses: list[Any], keys: Any) -> None:
    """Every corruption of every real entry fails, at the step where the Python verifier fails."""
    for n, doc in enumerate(responses):
        cases = tamper_matrix(doc, other=responses[n - 1])
        names = [name for name, _ in cases]
        expected = [python_entry_step(bad, keys_of(keys)) for _, bad in cases]
        got = await js_entry_steps(page, [bad for _, bad in cases], keys)
        assert [name for name, step in zip(names, expected, strict=True) if step is None] == []
        steps = [r["step"] for r in got]
        assert dict(zip(names, steps, strict=True)) == dict(zip(names, expected, strict=True))


def _entry_url(audit: str, event: CloudEvent[Any]) -> str:
    return f"{audit}/ledger/entries/{event.id}?subject={event.subject}"
