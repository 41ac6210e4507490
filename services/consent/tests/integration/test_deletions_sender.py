"""The webhook sender against a real local HTTP server: bounds, redirects, signatures."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook

from consent.adapters.webhook_sender import HttpWebhookSender
from consent.service.deletion_ports import Delivery
from consent.service.webhook_body import webhook_secret
from deletions_testing import BIG, DRIP, Receiver

pytestmark = pytest.mark.integration
SECRET = webhook_secret(key=b"k" * 32, app_id="app-1")


async def send(answer: int | str, *, timeout_s: float = 1.0) -> tuple[Receiver, Delivery, float]:
    """One send to a receiver that answers `answer`; the receiver, the delivery, the seconds."""
    receiver = Receiver(script=[answer], hang_s=5.0)
    await receiver.start()
    sender = HttpWebhookSender(timeout_s=timeout_s)
    started = time.monotonic()
    try:
        delivery = await sender.send(url=receiver.url, secret=SECRET, message_id="del_1", body="{}")
    finally:
        took = time.monotonic() - started
        await sender.aclose()
        await receiver.stop()
    return receiver, delivery, took


async def test_a_slow_drip_answer_is_cut_at_the_timeout() -> None:
    _, delivery, took = await send(DRIP, timeout_s=0.5)
    assert delivery == Delivery(status_code=None, error="no answer within 0.5s")
    assert took < 1.5  # per-read timeouts alone would wait for the whole 5 s drip


async def test_a_big_answer_is_not_read_whole_and_only_its_status_counts() -> None:
    _, delivery, _ = await send(BIG)
    assert delivery.status_code == 200


async def test_a_redirect_is_reported_not_followed() -> None:
    receiver, delivery, _ = await send(307)
    assert delivery.status_code == 307
    assert [c.path for c in receiver.calls] == ["/hooks/deletion"]


async def test_the_signature_verifies_and_names_the_request() -> None:
    receiver, _, _ = await send(200)
    (call,) = receiver.calls
    assert call.headers["webhook-id"] == "del_1"
    assert abs(int(call.headers["webhook-timestamp"]) - time.time()) < 5
    assert Webhook(SECRET).verify(call.body, call.headers) == {}


async def test_a_refused_connection_is_an_error_without_the_url() -> None:
    sender = HttpWebhookSender(timeout_s=1.0)
    url = "http://127.0.0.1:9/hook?token=app-own-secret"
    delivery = await sender.send(url=url, secret=SECRET, message_id="del_1", body="{}")
    await sender.aclose()
    assert delivery.status_code is None
    assert delivery.error
    assert "app-own-secret" not in delivery.error
