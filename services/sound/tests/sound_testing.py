"""Sound's test helpers: generated audio, fakes of sound's own ports, a harness."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import soundfile

from kits_testing import Servers
from sound.bootstrap import Container
from sound.config import SoundSettings
from sound.service.ports import Grant

FORMATS = {
    "wav": ("WAV", "PCM_16", "audio/wav", 44100),
    "flac": ("FLAC", "PCM_16", "audio/flac", 44100),
    "vorbis": ("OGG", "VORBIS", "audio/ogg; codecs=vorbis", 44100),
    "opus": ("OGG", "OPUS", "audio/ogg; codecs=opus", 48000),
    "mp3": ("MP3", "MPEG_LAYER_III", "audio/mpeg", 44100),
}


def audio(
    fmt: str,
    *,
    seconds: float = 2.0,
    channels: int = 2,
    rate: int | None = None,
    freq: float = 440.0,
) -> bytes:
    """A sine in `fmt` (real encoder output from libsndfile)."""
    container, subtype, _, default_rate = FORMATS[fmt]
    rate = rate or default_rate
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.3 * np.sin(2 * np.pi * freq * t)).astype("float32")
    data = np.stack([mono] * channels, axis=1)
    out = io.BytesIO()
    soundfile.write(out, data, rate, format=container, subtype=subtype)
    return out.getvalue()


def media_type(fmt: str) -> str:
    return FORMATS[fmt][2]


def sound_settings(servers: Servers, **overrides: Any) -> SoundSettings:
    values: dict[str, Any] = {
        "environment": "development",
        "kafka_bootstrap_servers": servers.kafka,
        "mongodb_url": servers.mongodb_url,
        "mongodb_database": f"t_sound_{uuid.uuid4().hex[:10]}",
        "min_chunk_bytes": 1024,
        "sweep_interval_s": 3600,
    }
    return SoundSettings(**{**values, **overrides})


@dataclass
class FakeTokens:
    """Sound's TokenResolver port: tokens the test registered."""

    grants: dict[str, Grant | str] = field(default_factory=dict)

    def issue(
        self,
        *,
        scopes: tuple[str, ...] = ("sound.upload",),
        app: str | None = None,
        user: str | None = None,
    ) -> tuple[str, Grant]:
        token = uuid.uuid4().hex
        grant = Grant(
            token_id=uuid.uuid4().hex,
            client_id=app or uuid.uuid4().hex,
            user_key=user or uuid.uuid4().hex,
            scopes=scopes,
            consent_id=uuid.uuid4().hex,
            pairwise_subject=uuid.uuid4().hex,
        )
        self.grants[token] = grant
        return token, grant

    async def resolve(self, token: str) -> Grant | str:
        return self.grants.get(token, "unknown")


@dataclass
class FakeConsent:
    """Sound's ConsentCheck port: pairs the test allowed."""

    allowed: set[tuple[str, str]] = field(default_factory=set)
    calls: int = 0

    async def check(
        self, *, user_key: str, app_id: str, scopes: tuple[str, ...]
    ) -> tuple[bool, str, str | None]:
        self.calls += 1
        if (user_key, app_id) in self.allowed:
            return True, "covered", "c-" + app_id
        return False, "no_consent", None


@dataclass
class Harness:
    container: Container
    http: httpx.AsyncClient
    tokens: FakeTokens
    consent: FakeConsent

    def user(self, **kwargs: Any) -> tuple[dict[str, str], Grant]:
        token, grant = self.tokens.issue(**kwargs)
        self.consent.allowed.add((grant.user_key, grant.client_id))
        return {"Authorization": f"Bearer {token}"}, grant

    async def init(
        self, headers: dict[str, str], data: bytes, *, chunk: int, media: str, title: str = "t"
    ) -> httpx.Response:
        count = -(-len(data) // chunk)
        return await self.http.post(
            "/v1/uploads",
            headers=headers,
            json={
                "total_size": len(data),
                "chunk_size": chunk,
                "chunk_count": count,
                "media_type": media,
                "title": title,
            },
        )

    async def put(
        self,
        headers: dict[str, str],
        upload_id: str,
        data: bytes,
        index: int,
        chunk: int,
        body: bytes | None = None,
    ) -> httpx.Response:
        first = index * chunk
        last = min(len(data), first + chunk) - 1
        piece = data[first : last + 1] if body is None else body
        return await self.http.put(
            f"/v1/uploads/{upload_id}",
            content=piece,
            headers={**headers, "Content-Range": f"bytes {first}-{last}/{len(data)}"},
        )

    async def upload(
        self, headers: dict[str, str], data: bytes, *, media: str, chunk: int = 64 * 1024
    ) -> dict[str, Any]:
        """Init, every chunk, complete, then poll to the outcome: the final status data."""
        r = await self.init(headers, data, chunk=chunk, media=media)
        assert r.status_code == 201, r.text
        upload_id = r.json()["data"]["upload_id"]
        for index in range(r.json()["data"]["chunk_count"]):
            p = await self.put(headers, upload_id, data, index, chunk)
            assert p.status_code == 200, p.text
        done = await self.http.post(f"/v1/uploads/{upload_id}/complete", headers=headers)
        assert done.status_code == 202, done.text
        await self.container.uploads.drain()
        s = await self.http.get(f"/v1/uploads/{upload_id}", headers=headers)
        assert s.status_code == 200, s.text
        return dict(s.json()["data"])
