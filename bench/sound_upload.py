"""F. sound: the Sound Kit's upload and share-out paths next to raw GridFS (`python -m bench
--only sound`, or on its own: `python -m bench.sound_upload`).

Sound runs as its own process (`uvicorn`, as deployed, on a free port, a database of the run on
the shared FerretDB, `consent.events` read from a topic of the run, its events and transfer
records on topics of the run, `SOUND_EVENTS_TOPIC` and `SOUND_TRANSFERS_TOPIC`, on the real
broker). Auth's resolve and consent's check are answered by a small local server speaking their
documented shapes (sound's own ports; every call is still made over HTTP, signed). The client
streams each chunk from a file on disk.

F1: upload throughput for 1 MB and 10 MB WAV files (init, chunks of 4 MiB, complete, poll to
`ingested`; MB/s and p99 per upload) and the chunk phase alone, next to raw
`AsyncGridFSBucket` uploads of the same bytes into the same server (target: the chunk phase at
least 80% of the raw rate). F2: share-out (`GET /v1/sounds/{id}`, the transfer recorded and
acknowledged first) of each of those files next to raw GridFS reads of the same files. F3: the
service's idle RSS and its peak RSS (sampled from /proc every 20 ms) during a 100 MB upload
(target: within 50 MB of idle).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soundfile
import uvicorn
from fastapi import FastAPI, Request
from gridfs import AsyncGridFSBucket

from bench.env import BenchEnv, read_environment
from bench.figures import Results, percentile, rate, table

AREA = "F. sound (uploads, share-out, memory)"

MB = 1_000_000
CHUNK = 4 * 1024 * 1024


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def stub_platform() -> FastAPI:
    """Auth's resolve (always active, `sound.upload`) and consent's check (always covered)."""
    app = FastAPI()

    @app.post("/internal/v1/access-tokens/resolve")
    async def resolve(request: Request) -> dict[str, Any]:
        body = await request.json()
        return {
            "active": True,
            "token_id": uuid.uuid4().hex,
            "family_id": uuid.uuid4().hex,
            "client_id": "a" + body["token"][:31],
            "sub": "p" + body["token"][:31],
            "user_key": body["token"],
            "scopes": ["sound.upload", "sound.share"],
            "consent_id": "c" + body["token"][:31],
            "consent_version": 1,
            "terms_version": "t1",
            "purpose": "bench",
            "exp": int(time.time()) + 3600,
        }

    @app.post("/v1/checks")
    async def check(request: Request) -> dict[str, Any]:
        body = await request.json()
        return {
            "allowed": True,
            "reason": "covered",
            "consent_id": "c" + body["user_key"][:31],
            "version": 1,
            "terms_version": "t1",
        }

    return app


def wav_file(size: int, folder: str, seed: int) -> Path:
    """A WAV of about `size` bytes (stereo 16-bit 44.1 kHz noise), written block by block."""
    path = Path(folder) / f"bench-{seed}-{size}.wav"
    frames = size // 4
    rng = np.random.default_rng(seed)
    with soundfile.SoundFile(path, "w", 44100, 2, "PCM_16", format="WAV") as out:
        left = frames
        while left:
            n = min(left, 1 << 18)
            out.write((rng.standard_normal((n, 2)) * 3000).astype("int16"))
            left -= n
    return path


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def upload(
    http: httpx.AsyncClient,
    path: Path,
    on_chunks: Callable[[], object] = lambda: None,
    user: str | None = None,
) -> tuple[float, float]:
    """(seconds of the chunk phase, seconds to `ingested`)."""
    size = os.path.getsize(path)  # noqa: ASYNC240  # the bench client, not the service
    headers = {"Authorization": f"Bearer {user or uuid.uuid4().hex}"}
    start = time.perf_counter()
    count = -(-size // CHUNK)
    r = await http.post(
        "/v1/uploads",
        headers=headers,
        json={
            "total_size": size,
            "chunk_size": CHUNK,
            "chunk_count": count,
            "media_type": "audio/wav",
            "title": "bench",
        },
    )
    assert r.status_code == 201, r.text
    upload_id = r.json()["data"]["upload_id"]
    with path.open("rb") as source:
        for index in range(count):
            piece = source.read(CHUNK)
            first = index * CHUNK
            p = await http.put(
                f"/v1/uploads/{upload_id}",
                content=piece,
                headers={
                    **headers,
                    "Content-Range": f"bytes {first}-{first + len(piece) - 1}/{size}",
                },
            )
            assert p.status_code == 200, p.text
    chunks_done = time.perf_counter()
    on_chunks()
    c = await http.post(f"/v1/uploads/{upload_id}/complete", headers=headers)
    assert c.status_code == 202, c.text
    while True:
        s = (await http.get(f"/v1/uploads/{upload_id}", headers=headers)).json()["data"]
        if s["state"] in ("ingested", "rejected"):
            assert s["state"] == "ingested", s
            break
        await asyncio.sleep(0.02)
    return chunks_done - start, time.perf_counter() - start


async def raw_put(bucket: AsyncGridFSBucket, path: Path) -> float:
    start = time.perf_counter()
    with path.open("rb") as source:
        stream = bucket.open_upload_stream("raw")
        while piece := source.read(1024 * 1024):
            await stream.write(piece)
        await stream.close()
    return time.perf_counter() - start


def p99_ms(values: list[float]) -> float:
    return percentile(values, 99) * 1000


def service_env(
    env: BenchEnv,
    *,
    port: int,
    stub_port: int,
    database: str,
    topic: str,
    events_topic: str,
    transfers_topic: str,
) -> dict[str, str]:
    """The sound process's environment: this run's database, topics and group."""
    return {
        **os.environ,
        "SOUND_ENVIRONMENT": "development",
        "SOUND_HTTP_HOST": "127.0.0.1",
        "SOUND_HTTP_PORT": str(port),
        "SOUND_LOG_LEVEL": "WARNING",
        "SOUND_KAFKA_BOOTSTRAP_SERVERS": env.bootstrap,
        "SOUND_MONGODB_URL": env.mongo_url,
        "SOUND_MONGODB_DATABASE": database,
        "SOUND_CONSENT_EVENTS_TOPIC": topic,
        "SOUND_EVENTS_TOPIC": events_topic,
        "SOUND_TRANSFERS_TOPIC": transfers_topic,
        "SOUND_CONSENT_EVENTS_GROUP": env.group("sound-consent"),
        "SOUND_AUTH_URL": f"http://127.0.0.1:{stub_port}",
        "SOUND_CONSENT_URL": f"http://127.0.0.1:{stub_port}",
        **(
            {"MALLOC_MMAP_THRESHOLD_": os.environ["BENCH_MMAP"]}
            if "BENCH_MMAP" in os.environ
            else {}
        ),
    }


async def run_sound(
    env: BenchEnv, results: Results, *, repeats: int = 10, big_mb: int = 100
) -> None:
    """Start sound and the stub platform, then F1 and F2 per size, then F3."""
    stub_sock, sound_sock = free_socket(), free_socket()
    stub_port, sound_port = stub_sock.getsockname()[1], sound_sock.getsockname()[1]
    sound_sock.close()
    server = uvicorn.Server(uvicorn.Config(stub_platform(), log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [stub_sock]}, daemon=True).start()
    database = env.database("sound").name
    raw_db = env.database("sound_raw")
    topic = await env.topic("sound-consent")
    events_topic = await env.topic("sound-events")
    transfers_topic = await env.topic("sound-transfers")
    service = subprocess.Popen(  # noqa: ASYNC220  # once, before timing
        [sys.executable, "-c", "from sound.main import run; run()"],
        env=service_env(
            env,
            port=sound_port,
            stub_port=stub_port,
            database=database,
            topic=topic,
            events_topic=events_topic,
            transfers_topic=transfers_topic,
        ),
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{sound_port}", timeout=120
        ) as http:
            await ready(http, service)
            bucket = AsyncGridFSBucket(raw_db, bucket_name="raw")
            with tempfile.TemporaryDirectory() as folder:
                for size in (1 * MB, 10 * MB):
                    await sizes(results, http, bucket, folder, size=size, repeats=repeats)
                await memory(results, http, service.pid, folder, big_mb=big_mb)
    finally:
        service.terminate()
        try:
            await asyncio.to_thread(service.wait, 20)
        except subprocess.TimeoutExpired:
            service.kill()
            await asyncio.to_thread(service.wait, 20)
        server.should_exit = True
        env.topics.append(f"{env.group('sound-consent')}.dlq")


async def ready(http: httpx.AsyncClient, service: subprocess.Popen[bytes]) -> None:
    """Wait (at most 30 s) for sound's readiness; fail if the process ended."""
    for _ in range(300):
        if service.poll() is not None:
            raise RuntimeError(f"sound exited with {service.returncode}")
        try:
            if (await http.get("/health/ready")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("sound was not ready within 30 s")


async def sizes(
    results: Results,
    http: httpx.AsyncClient,
    bucket: AsyncGridFSBucket,
    folder: str,
    *,
    size: int,
    repeats: int,
) -> None:
    """F1 and F2 for `repeats` files of `size` bytes."""
    files = [wav_file(size, folder, seed) for seed in range(repeats)]
    files_size = files[0].stat().st_size
    raws = [await raw_put(bucket, f) for f in files]
    user = uuid.uuid4().hex
    times = [await upload(http, f, user=user) for f in files]
    chunks = [t[0] for t in times]
    totals = [t[1] for t in times]
    mb = size / MB
    label = f"{size // MB} MB x{repeats}"
    raw_rate = rate(repeats, sum(raws)) * mb
    chunk_rate = rate(repeats, sum(chunks)) * mb
    results.add(AREA, f"F1 {label} raw GridFS put", raw_rate, "MB/s")
    results.add(AREA, f"F1 {label} raw GridFS put p99", p99_ms(raws), "ms")
    results.add(AREA, f"F1 {label} sound upload, chunk phase", chunk_rate, "MB/s")
    results.add(AREA, f"F1 {label} sound upload, chunk phase p99", p99_ms(chunks), "ms")
    results.add(
        AREA,
        f"F1 {size // MB} MB sound chunk phase / raw GridFS put",
        chunk_rate / raw_rate if raw_rate else 0.0,
        "x",
        target=0.8,
        note="init, 4 MiB chunks (each: resolve + consent check over HTTP, GridFS write)",
    )
    results.add(
        AREA, f"F1 {label} sound upload to ingested", rate(repeats, sum(totals)) * mb, "MB/s"
    )
    results.add(AREA, f"F1 {label} sound upload to ingested p99", p99_ms(totals), "ms")
    raw_ids = [d._id async for d in bucket.find({"length": files_size})]
    raw_reads = []
    for file_id in raw_ids[:repeats]:
        began = time.perf_counter()
        source = await bucket.open_download_stream(file_id)
        while await source.read(1024 * 1024):
            pass
        raw_reads.append(time.perf_counter() - began)
    auth = {"Authorization": f"Bearer {user}"}
    listed = (await http.get("/v1/sounds?max_count=50", headers=auth)).json()
    fetches = []
    for item in listed["data"]["sounds"]:
        began = time.perf_counter()
        async with http.stream("GET", f"/v1/sounds/{item['sound_id']}", headers=auth) as r:
            if r.status_code != 200:
                raise RuntimeError(f"fetch answered {r.status_code}")
            async for _ in r.aiter_bytes():
                pass
        fetches.append(time.perf_counter() - began)
    raw_read_rate = rate(len(raw_reads), sum(raw_reads)) * mb
    fetch_rate = rate(len(fetches), sum(fetches)) * mb
    results.add(AREA, f"F2 {label} raw GridFS read", raw_read_rate, "MB/s")
    results.add(AREA, f"F2 {label} raw GridFS read p99", p99_ms(raw_reads), "ms")
    results.add(
        AREA,
        f"F2 {label} sound fetch",
        fetch_rate,
        "MB/s",
        note="GET /v1/sounds/{id}: transfer.recorded.v1 acknowledged first",
    )
    results.add(AREA, f"F2 {label} sound fetch p99", p99_ms(fetches), "ms")
    results.add(
        AREA,
        f"F2 {size // MB} MB sound fetch / raw GridFS read",
        fetch_rate / raw_read_rate if raw_read_rate else 0.0,
        "x",
    )
    for f in files:
        f.unlink()


async def memory(
    results: Results, http: httpx.AsyncClient, pid: int, folder: str, *, big_mb: int
) -> None:
    """F3: sound's RSS idle and at its peak during one `big_mb` MB upload."""
    big = wav_file(big_mb * MB, folder, 999)
    idle = rss_kib(pid)
    peak, done, marks = idle, asyncio.Event(), []

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib(pid))
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    try:
        chunk_s, total_s = await upload(http, big, on_chunks=lambda: marks.append(peak))
    finally:
        done.set()
        await sampler
    big.unlink()
    results.add(AREA, "F3 sound idle RSS", idle / 1024, "MiB")
    results.add(
        AREA,
        f"F3 sound peak RSS during a {big_mb} MB upload",
        peak / 1024,
        "MiB",
        note=f"chunks {chunk_s:.1f} s, to ingested {total_s:.1f} s; peak by the end of the"
        f" chunks {marks[0] / 1024:.0f} MiB",
    )
    results.add(
        AREA,
        f"F3 sound peak RSS above idle ({big_mb} MB upload)",
        (peak - idle) / 1024,
        "MiB",
        target=50.0,
        compare="<=",
    )


async def alone(repeats: int, big_mb: int) -> Results:
    env = BenchEnv(*read_environment())
    results = Results()
    try:
        await run_sound(env, results, repeats=repeats, big_mb=big_mb)
    finally:
        await env.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--big-mb", type=int, default=100)
    args = parser.parse_args()
    results = asyncio.run(alone(args.repeats, args.big_mb))
    print(table(results))
    sys.exit(1 if results.failed else 0)


if __name__ == "__main__":
    main()
