"""Uploads end to end on the real Kafka and FerretDB (auth and consent are sound's port fakes)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator

import httpx

from kits_testing import Servers, eventually, read_since, topic_ends
from shared.events import make_event
from shared.events.consent import ConsentRevoked
from shared.events.envelope import CONTENT_TYPE
from shared.topics import SOUND_EVENTS
from sound_testing import Harness, audio, media_type

CHUNK = 64 * 1024


async def test_every_format_is_ingested_with_its_duration(sound: Harness) -> None:
    headers, _ = sound.user()
    for fmt in ("wav", "flac", "vorbis", "opus", "mp3"):
        data = audio(fmt, seconds=1.5)
        status = await sound.upload(headers, data, media=media_type(fmt))
        assert status["state"] == "ingested", status
        assert abs(status["duration_ms"] - 1500) <= 30
        assert status["sha256"] == hashlib.sha256(data).hexdigest()


async def test_broken_files_are_rejected_with_a_reason(sound: Harness) -> None:
    headers, _ = sound.user()
    mp3 = audio("mp3", seconds=2.0)
    cases = {
        "truncated": (mp3[: len(mp3) // 2], "audio/mpeg"),
        "media_type_mismatch": (audio("vorbis"), "audio/mpeg"),
        "unrecognised_format": (bytes(range(256)) * 100, "audio/wav"),
        "no_audio": (audio("wav", seconds=0.0), "audio/wav"),
    }
    for code, (data, media) in cases.items():
        status = await sound.upload(headers, data, media=media)
        assert (status["state"], status["reason_code"]) == ("rejected", code), status
        assert status["reason"]


async def test_a_resumed_upload_after_a_cut_completes_with_the_same_digest(
    sound: Harness,
) -> None:
    headers, _ = sound.user()
    data = audio("wav", seconds=3.0)
    r = await sound.init(headers, data, chunk=CHUNK, media="audio/wav")
    upload_id = r.json()["data"]["upload_id"]
    await sound.put(headers, upload_id, data, 0, CHUNK)

    async def cut_body() -> AsyncIterator[bytes]:
        yield data[CHUNK : CHUNK + 1000]
        raise httpx.ReadError("connection dropped mid-chunk")

    with contextlib.suppress(httpx.HTTPError, OSError):
        await sound.http.put(
            f"/v1/uploads/{upload_id}",
            content=cut_body(),
            headers={**headers, "Content-Range": f"bytes {CHUNK}-{2 * CHUNK - 1}/{len(data)}"},
        )
    status = (await sound.http.get(f"/v1/uploads/{upload_id}", headers=headers)).json()["data"]
    assert status["stored_ranges"] == [f"0-{CHUNK - 1}"]
    again = await sound.put(headers, upload_id, data, 0, CHUNK)  # a repeat: accepted
    assert again.status_code == 200
    assert again.json()["data"]["repeated"] is True
    conflict = await sound.put(headers, upload_id, data, 0, CHUNK, body=b"x" * CHUNK)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "range_conflict"
    for index in range(1, r.json()["data"]["chunk_count"]):
        assert (await sound.put(headers, upload_id, data, index, CHUNK)).status_code == 200
    await sound.http.post(f"/v1/uploads/{upload_id}/complete", headers=headers)
    await sound.container.uploads.drain()
    final = (await sound.http.get(f"/v1/uploads/{upload_id}", headers=headers)).json()["data"]
    assert final["state"] == "ingested"
    assert final["sha256"] == hashlib.sha256(data).hexdigest()


async def test_bounds_are_413_and_bad_ranges_are_refused(sound: Harness) -> None:
    headers, _ = sound.user()
    limits = sound.container.settings
    big = await sound.http.post(
        "/v1/uploads",
        headers=headers,
        json={
            "total_size": limits.max_total_bytes + 1,
            "chunk_size": limits.max_chunk_bytes,
            "chunk_count": 5,
            "media_type": "audio/wav",
        },
    )
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "too_large"
    data = audio("wav", seconds=1.0)
    r = await sound.init(headers, data, chunk=CHUNK, media="audio/wav")
    upload_id = r.json()["data"]["upload_id"]
    long = await sound.put(headers, upload_id, data, 0, CHUNK, body=data[: CHUNK + 10])
    assert long.status_code == 400  # Content-Length differs from the range
    misaligned = await sound.http.put(
        f"/v1/uploads/{upload_id}",
        content=b"a" * 10,
        headers={**headers, "Content-Range": f"bytes 5-14/{len(data)}"},
    )
    assert misaligned.status_code == 400
    early = await sound.http.post(f"/v1/uploads/{upload_id}/complete", headers=headers)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "incomplete_upload"


async def test_a_chunk_over_one_mebibyte_streams_past_the_shared_body_limit(
    sound: Harness,
) -> None:
    headers, _ = sound.user()
    data = audio("wav", seconds=15.0)  # ~5 MiB
    status = await sound.upload(headers, data, media="audio/wav", chunk=4 * 1024 * 1024)
    assert status["state"] == "ingested"


async def test_refusals_without_scope_token_or_consent(sound: Harness) -> None:
    data = audio("wav", seconds=0.5)
    no_token = await sound.init({}, data, chunk=CHUNK, media="audio/wav")
    assert no_token.status_code == 401
    assert set(no_token.json()["error"]) == {"code", "message", "log_id"}
    unknown = await sound.init(
        {"Authorization": "Bearer nope"}, data, chunk=CHUNK, media="audio/wav"
    )
    assert unknown.status_code == 401
    for reason in ("expired", "revoked"):  # what auth's resolve answers for such tokens
        sound.tokens.grants[reason] = f"token {reason}"
        dead = await sound.init(
            {"Authorization": f"Bearer {reason}"}, data, chunk=CHUNK, media="audio/wav"
        )
        assert dead.status_code == 401
        assert reason in dead.json()["error"]["message"]
    headers, _ = sound.user(scopes=("user.info.basic",))
    assert (await sound.init(headers, data, chunk=CHUNK, media="audio/wav")).status_code == 403
    token, grant = sound.tokens.issue()
    no_consent = await sound.init(
        {"Authorization": f"Bearer {token}"}, data, chunk=CHUNK, media="audio/wav"
    )
    assert no_consent.status_code == 403
    assert no_consent.json()["error"]["code"] == "consent_required"
    # consent revoked mid-upload: the next chunk and the completion are refused
    headers, grant = sound.user()
    r = await sound.init(headers, data, chunk=CHUNK, media="audio/wav")
    upload_id = r.json()["data"]["upload_id"]
    sound.consent.allowed.discard((grant.user_key, grant.client_id))
    assert (await sound.put(headers, upload_id, data, 0, CHUNK)).status_code == 403
    assert (
        await sound.http.post(f"/v1/uploads/{upload_id}/complete", headers=headers)
    ).status_code == 403
    # another app's token does not see the upload
    other, _ = sound.user()
    assert (await sound.http.get(f"/v1/uploads/{upload_id}", headers=other)).status_code == 404


async def test_the_same_content_is_stored_once(sound: Harness) -> None:
    headers, _ = sound.user()
    data = audio("flac", seconds=1.0)
    first, second = await asyncio.gather(
        sound.upload(headers, data, media="audio/flac"),
        sound.upload(headers, data, media="audio/flac"),
    )
    assert first["state"] == second["state"] == "ingested"
    assert first["sound_id"] != second["sound_id"]
    # one copy: the bucket holds the chunks of one upload, the other's were deleted
    assert await sound.container.store.file_count() == -(-len(data) // (64 * 1024))


async def test_events_reach_sound_events(sound: Harness, servers: Servers) -> None:
    events_topic = sound.container.settings.events_topic  # this test's own (SOUND_EVENTS_TOPIC)
    assert events_topic != SOUND_EVENTS
    ends = await topic_ends(servers.kafka, events_topic)
    headers, grant = sound.user()
    ok = await sound.upload(headers, audio("wav", seconds=0.5), media="audio/wav")
    bad = await sound.upload(headers, audio("vorbis"), media="audio/wav")
    mine = grant.user_key.encode()
    found = await read_since(
        servers.kafka,
        events_topic,
        since=ends,
        until=lambda rs: sum(r.key == mine for r in rs) >= 4,
    )
    records = [r for r in found if r.key == mine]
    kinds = [json.loads(r.value)["type"] for r in records]
    assert kinds.count("sound.upload_started.v1") == 2
    assert "sound.ingested.v1" in kinds
    assert "sound.rejected.v1" in kinds
    ingested = next(
        json.loads(r.value) for r in records if json.loads(r.value)["type"] == "sound.ingested.v1"
    )
    assert ingested["data"]["sha256"] == ok["sha256"]
    assert bad["reason_code"] == "media_type_mismatch"


async def test_abandoned_uploads_are_swept(sound: Harness) -> None:
    headers, _ = sound.user()
    data = audio("wav", seconds=1.0)
    r = await sound.init(headers, data, chunk=CHUNK, media="audio/wav")
    upload_id = r.json()["data"]["upload_id"]
    await sound.put(headers, upload_id, data, 0, CHUNK)
    sound.container.uploads.abandon_after_s = 0.0
    assert await sound.container.uploads.sweep() >= 1
    assert (await sound.http.get(f"/v1/uploads/{upload_id}", headers=headers)).status_code == 404
    assert await sound.container.store.parts(upload_id) == {}


async def test_jwks_is_served(sound: Harness) -> None:
    keys = (await sound.http.get("/.well-known/jwks.json")).json()["keys"]
    assert keys
    assert keys[0]["alg"] == "Ed25519"


async def test_sharing_out_lists_and_fetches_with_the_transfer_recorded_first(
    sound: Harness, servers: Servers
) -> None:
    up, grant = sound.user()
    data = [audio("wav", seconds=0.5, freq=300 + 50 * i) for i in range(3)]
    for one in data:
        assert (await sound.upload(up, one, media="audio/wav"))["state"] == "ingested"
    share, _ = sound.user(scopes=("sound.share",), app=grant.client_id, user=grant.user_key)
    first = (await sound.http.get("/v1/sounds?max_count=2", headers=share)).json()["data"]
    assert len(first["sounds"]) == 2
    assert first["has_more"] is True
    rest = (await sound.http.get(f"/v1/sounds?cursor={first['cursor']}", headers=share)).json()[
        "data"
    ]
    assert len(rest["sounds"]) == 1
    assert rest["has_more"] is False
    sound_id = first["sounds"][0]["sound_id"]
    no_scope = await sound.http.get(f"/v1/sounds/{sound_id}", headers=up)
    assert no_scope.status_code == 403
    transfers = sound.container.settings.transfers_topic  # this test's (SOUND_TRANSFERS_TOPIC)
    ends = await topic_ends(servers.kafka, transfers)
    whole = await sound.http.get(f"/v1/sounds/{sound_id}", headers=share)
    assert whole.status_code == 200
    part = await sound.http.get(
        f"/v1/sounds/{sound_id}", headers={**share, "Range": "bytes=100-4099"}
    )
    assert part.status_code == 206
    assert part.content == whole.content[100:4100]
    mine = grant.user_key.encode()
    found = await read_since(
        servers.kafka,
        transfers,
        since=ends,
        until=lambda rs: sum(r.key == mine for r in rs) >= 2,
    )
    digests = [json.loads(r.value)["data"]["digest_sha256"] for r in found if r.key == mine]
    assert digests == [
        hashlib.sha256(whole.content).hexdigest(),
        hashlib.sha256(part.content).hexdigest(),
    ]
    assert hashlib.sha256(whole.content).hexdigest() == first["sounds"][0]["sha256"]


async def test_a_revoked_consent_ends_the_open_uploads_of_that_app(sound: Harness) -> None:
    headers, grant = sound.user()
    data = audio("wav", seconds=1.0)
    r = await sound.init(headers, data, chunk=CHUNK, media="audio/wav")
    upload_id = r.json()["data"]["upload_id"]
    await sound.put(headers, upload_id, data, 0, CHUNK)
    event = make_event(
        ConsentRevoked(
            user_key=grant.user_key, app_id=grant.client_id, consent_id=grant.consent_id, version=2
        ),
        source="kits.consent",
    )
    await sound.container.runtime.publisher.publish_raw(
        topic=sound.container.settings.consent_events_topic,
        value=event.to_bytes(),
        key=event.key(),
        headers={"content-type": CONTENT_TYPE},
    )

    async def ended() -> bool:  # the state is written first, then the chunks are dropped
        doc = await sound.container.store.upload(upload_id)
        return (
            doc is not None
            and doc["state"] == "rejected"
            and await sound.container.store.parts(upload_id) == {}
        )

    await eventually(ended, timeout_s=30)
    doc = await sound.container.store.upload(upload_id)
    assert doc is not None
    assert doc["reason_code"] == "consent_revoked"
    assert await sound.container.store.parts(upload_id) == {}


async def test_an_interrupted_validation_is_run_again_by_the_sweep(sound: Harness) -> None:
    headers, _ = sound.user()
    data = audio("flac", seconds=1.0)
    r = await sound.init(headers, data, chunk=CHUNK, media="audio/flac")
    upload_id = r.json()["data"]["upload_id"]
    for index in range(r.json()["data"]["chunk_count"]):
        await sound.put(headers, upload_id, data, index, CHUNK)
    # As if the process stopped right after taking the completion claim.
    uploads = sound.container.uploads
    assert await sound.container.store.claim_completion(upload_id, uploads.clock())
    await sound.container.store.update_upload(
        upload_id, {"state": "validating", "validating_since": uploads.clock()}
    )
    uploads.stuck_after_s = 0.0
    await uploads.sweep()
    await uploads.drain()
    status = (await sound.http.get(f"/v1/uploads/{upload_id}", headers=headers)).json()["data"]
    assert status["state"] == "ingested"
    assert status["sha256"] == hashlib.sha256(data).hexdigest()
