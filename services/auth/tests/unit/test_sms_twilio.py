"""The Twilio adapter against a local server speaking the Messages API's shape (issue 15, 1).

The server runs on 127.0.0.1 in the test, checks the path, the basic-auth header and the form
fields of each request, and answers from a script: 201, a 400 with Twilio's error body, 500s,
or a reply slower than the client's timeout.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import pytest

from auth.adapters.sms_twilio import TwilioSmsSender
from auth.service.ports import SmsFailed

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token"
TO = "+442079460001"
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


@dataclass
class Reply:
    status: int
    body: dict[str, object]
    delay_s: float = 0.0


@dataclass
class FakeTwilio:
    """Records each request and answers the next scripted reply (201 once they run out)."""

    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, object]] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        line, *header_lines = head.strip().split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        method, path, _ = line.split(" ")
        self.requests.append(
            {"method": method, "path": path, "headers": headers, "form": parse_qs(body.decode())}
        )
        reply = self.script.pop(0) if self.script else _created()
        await asyncio.sleep(reply.delay_s)
        payload = json.dumps(reply.body).encode()
        writer.write(
            f"HTTP/1.1 {reply.status} X\r\ncontent-type: application/json\r\n"
            f"content-length: {len(payload)}\r\nconnection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        writer.close()


def _created() -> Reply:
    return Reply(201, {"sid": "SM" + "a" * 32, "status": "queued", "to": TO})


def _twilio_400() -> Reply:
    return Reply(
        400,
        {
            "code": 21211,
            "message": f"The 'To' number {TO} is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        },
    )


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    fake.url = f"http://127.0.0.1:{port}"
    async with server:
        yield fake
        server.close()


def _sender(
    fake: FakeTwilio, *, sender: str = "+15005550006", timeout_s: float = 2.0
) -> TwilioSmsSender:
    return TwilioSmsSender(
        api_url=fake.url,
        account_sid=SID,
        auth_token=TOKEN,
        sender=sender,
        timeout_s=timeout_s,
        max_attempts=3,
        backoff_s=0.01,
    )


async def test_a_message_is_posted_in_the_messages_api_shape(twilio: FakeTwilio) -> None:
    sms = _sender(twilio)
    await sms.send(to=TO, body="Your code is 123456")
    await sms.aclose()
    (request,) = twilio.requests
    assert request["method"] == "POST"
    assert request["path"] == PATH
    headers = request["headers"]
    assert isinstance(headers, dict)
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert headers["authorization"] == f"Basic {expected}"
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "To": [TO],
        "From": ["+15005550006"],
        "Body": ["Your code is 123456"],
    }


async def test_a_messaging_service_sender_goes_as_messaging_service_sid(twilio: FakeTwilio) -> None:
    sms = _sender(twilio, sender="MG" + "b" * 32)
    await sms.send(to=TO, body="Your code is 654321")
    await sms.aclose()
    form = twilio.requests[0]["form"]
    assert isinstance(form, dict)
    assert form["MessagingServiceSid"] == ["MG" + "b" * 32]
    assert "From" not in form


async def test_a_4xx_is_not_retried_and_its_reason_hides_the_number(twilio: FakeTwilio) -> None:
    twilio.script = [_twilio_400()]
    sms = _sender(twilio)
    with pytest.raises(SmsFailed) as caught:
        await sms.send(to=TO, body="Your code is 123456")
    await sms.aclose()
    assert len(twilio.requests) == 1
    reason = str(caught.value)
    assert "HTTP 400" in reason
    assert "21211" in reason
    assert "not a valid phone number" in reason
    for form in (TO, TO[1:], "2079460001", "20 7946 0001", "7946"):
        assert form not in reason


async def test_a_500_is_retried_until_a_201(twilio: FakeTwilio) -> None:
    twilio.script = [Reply(500, {"code": 20500, "message": "Internal Server Error", "status": 500})]
    sms = _sender(twilio)
    await sms.send(to=TO, body="Your code is 123456")
    await sms.aclose()
    assert len(twilio.requests) == 2


async def test_5xx_every_time_gives_up_after_the_bounded_tries(twilio: FakeTwilio) -> None:
    twilio.script = [Reply(503, {"message": "busy"}) for _ in range(5)]
    sms = _sender(twilio)
    with pytest.raises(SmsFailed, match=r"HTTP 503.*gave up after 3 tries"):
        await sms.send(to=TO, body="Your code is 123456")
    await sms.aclose()
    assert len(twilio.requests) == 3


async def test_a_slow_answer_times_out_and_is_retried_a_bounded_number_of_times(
    twilio: FakeTwilio,
) -> None:
    twilio.script = [Reply(201, {"sid": "SMslow"}, delay_s=1.0) for _ in range(3)]
    sms = _sender(twilio, timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(SmsFailed, match=r"ReadTimeout.*gave up after 3 tries") as caught:
        await sms.send(to=TO, body="Your code is 123456")
    took = time.monotonic() - started
    await sms.aclose()
    assert len(twilio.requests) == 3
    assert took < 1.5  # 3 tries of 0.2 s plus two short backoffs: the caller is not held long
    assert TO not in str(caught.value)


async def test_a_slow_answer_then_a_quick_one_is_delivered(twilio: FakeTwilio) -> None:
    twilio.script = [Reply(201, {"sid": "SMslow"}, delay_s=1.0)]
    sms = _sender(twilio, timeout_s=0.2)
    await sms.send(to=TO, body="Your code is 123456")
    await sms.aclose()
    assert len(twilio.requests) == 2


async def test_an_unreachable_provider_fails_without_the_number() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # nothing listens on that port any more
    sms = TwilioSmsSender(
        api_url=f"http://127.0.0.1:{port}",
        account_sid=SID,
        auth_token=TOKEN,
        sender="+15005550006",
        timeout_s=1.0,
        max_attempts=2,
        backoff_s=0.01,
    )
    with pytest.raises(SmsFailed, match=r"unreachable \(ConnectError\).*2 tries") as caught:
        await sms.send(to=TO, body="Your code is 123456")
    await sms.aclose()
    assert TO not in str(caught.value)
