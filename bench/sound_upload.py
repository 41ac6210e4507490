"""`uv run python -m bench.sound_upload`: the Sound Kit's upload path against raw GridFS.

Sound runs as its own process (`uvicorn`, as deployed, on a free port, its own database on the
shared FerretDB, its events on the real broker). Auth's resolve and consent's check are answered
by a small local server speaking their documented shapes (sound's own ports; every call is
still made over HTTP, signed). The client streams each chunk from a file on disk.

Prints, in one run: upload throughput for 1 MB and 10 MB WAV files (init, chunks of 4 MiB,
complete, poll to `ingested`; MB/s and p99 per upload) and the chunk phase alone, next to raw
`AsyncGridFSBucket.upload_from_stream` of the same bytes into the same server (target: the chunk
phase at least 80% of the raw rate); the service's idle RSS and its peak RSS (sampled from
/proc every 20 ms) during a 100 MB upload (target: within 50 MB of idle).
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
from pymongo import AsyncMongoClient

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


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def run(repeats: int, big_mb: int) -> int:
    kafka, mongo = os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["MONGODB_URL"]
    run_id = uuid.uuid4().hex[:8]
    stub_sock, sound_sock = free_socket(), free_socket()
    stub_port, sound_port = stub_sock.getsockname()[1], sound_sock.getsockname()[1]
    sound_sock.close()
    server = uvicorn.Server(uvicorn.Config(stub_platform(), log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [stub_sock]}, daemon=True).start()
    database = f"bench_{run_id}_sound"
    env = {
        **os.environ,
        "SOUND_ENVIRONMENT": "development",
        "SOUND_HTTP_HOST": "127.0.0.1",
        "SOUND_HTTP_PORT": str(sound_port),
        "SOUND_LOG_LEVEL": "WARNING",
        "SOUND_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "SOUND_MONGODB_URL": mongo,
        "SOUND_MONGODB_DATABASE": database,
        "SOUND_AUTH_URL": f"http://127.0.0.1:{stub_port}",
        "SOUND_CONSENT_URL": f"http://127.0.0.1:{stub_port}",
        **(
            {"MALLOC_MMAP_THRESHOLD_": os.environ["BENCH_MMAP"]}
            if "BENCH_MMAP" in os.environ
            else {}
        ),
    }
    service = subprocess.Popen(  # noqa: ASYNC220  # once, before timing
        [sys.executable, "-c", "from sound.main import run; run()"], env=env
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo)
    failed = 0
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{sound_port}", timeout=120
        ) as http:
            for _ in range(300):
                try:
                    if (await http.get("/health/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            bucket = AsyncGridFSBucket(client[f"bench_{run_id}_raw"], bucket_name="raw")
            with tempfile.TemporaryDirectory() as folder:
                for size in (1 * MB, 10 * MB):
                    files = [wav_file(size, folder, seed) for seed in range(repeats)]
                    files_size = files[0].stat().st_size
                    raws = [await raw_put(bucket, f) for f in files]
                    user = uuid.uuid4().hex
                    times = [await upload(http, f, user=user) for f in files]
                    chunks = [t[0] for t in times]
                    totals = [t[1] for t in times]
                    mb = size / MB
                    raw_rate = mb * len(raws) / sum(raws)
                    chunk_rate = mb * len(chunks) / sum(chunks)
                    total_rate = mb * len(totals) / sum(totals)
                    ratio = chunk_rate / raw_rate
                    print(
                        f"{size // MB:>3} MB x{repeats}: raw GridFS {raw_rate:6.1f} MB/s"
                        f" (p99 {p99(raws) * 1000:.0f} ms) | sound chunks {chunk_rate:6.1f} MB/s"
                        f" (p99 {p99(chunks) * 1000:.0f} ms) = {ratio:.0%} of raw"
                        f" [target >= 80%] | to ingested {total_rate:6.1f} MB/s"
                        f" (p99 {p99(totals) * 1000:.0f} ms)"
                    )
                    failed += ratio < 0.8
                    # share-out: fetch every one of them back next to raw GridFS reads
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
                        async with http.stream(
                            "GET", f"/v1/sounds/{item['sound_id']}", headers=auth
                        ) as r:
                            assert r.status_code == 200
                            async for _ in r.aiter_bytes():
                                pass
                        fetches.append(time.perf_counter() - began)
                    if raw_reads and fetches:
                        raw_read_rate = mb * len(raw_reads) / sum(raw_reads)
                        fetch_rate = mb * len(fetches) / sum(fetches)
                        print(
                            f"{size // MB:>3} MB share-out: raw GridFS read {raw_read_rate:6.1f}"
                            f" MB/s (p99 {p99(raw_reads) * 1000:.0f} ms) | sound fetch"
                            f" {fetch_rate:6.1f} MB/s (p99 {p99(fetches) * 1000:.0f} ms, transfer"
                            f" recorded first) = {fetch_rate / raw_read_rate:.0%} of raw"
                        )
                    for f in files:
                        f.unlink()
                big = wav_file(big_mb * MB, folder, 999)
                idle = rss_kib(service.pid)
                peak, done, marks = idle, asyncio.Event(), []

                async def sample() -> None:
                    nonlocal peak
                    while not done.is_set():
                        peak = max(peak, rss_kib(service.pid))
                        await asyncio.sleep(0.02)

                sampler = asyncio.create_task(sample())
                chunk_s, total_s = await upload(http, big, on_chunks=lambda: marks.append(peak))
                done.set()
                await sampler
                growth = (peak - idle) / 1024
                print(
                    f"{big_mb} MB upload: idle RSS {idle / 1024:.0f} MiB, peak {peak / 1024:.0f}"
                    f" MiB (+{growth:.0f} MiB) [target <= +50 MiB]; chunks {chunk_s:.1f} s,"
                    f" to ingested {total_s:.1f} s; peak by the end of the chunks"
                    f" {marks[0] / 1024:.0f} MiB"
                )
                failed += growth > 50
    finally:
        service.terminate()
        service.wait(timeout=20)
        server.should_exit = True
        await client.drop_database(database)
        await client.drop_database(f"bench_{run_id}_raw")
        await client.close()
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--big-mb", type=int, default=100)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.repeats, args.big_mb)))


if __name__ == "__main__":
    main()
