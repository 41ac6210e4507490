"""The audio validator: sniff, then decode every frame with libsndfile (`soundfile`).

libsndfile lets much broken audio through (shared LIBRARIES.md), so beyond a clean decode this
checks what it does not: the sniffed format against the declared one, a WAV `data` chunk longer
than the file, an Ogg stream without its end-of-stream page, decoded frames fewer than the
header's count (a truncated MP3, garbage in the middle), zero frames. Blocking: callers run it in
a thread (`validate_in_thread`). Memory is one block of `BLOCK_FRAMES` whatever the file size.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

import soundfile

from sound.domain.sniff import HEAD_BYTES, ogg_ends_cleanly, sniff, wav_data_shortfall
from sound.service.ports import AudioFacts, AudioLimits, AudioRejected

BLOCK_FRAMES = 65536
TAIL_BYTES = 70_000
NAMES = {"wav": "WAV", "flac": "FLAC", "vorbis": "Ogg Vorbis", "opus": "Ogg Opus", "mp3": "MP3"}


@dataclass
class SoundfileValidator:
    """The `AudioValidator` port: a bounded thread pool around `validate_file`."""

    limits: AudioLimits
    workers: int = 2

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="validate")

    async def validate(self, path: str, *, declared: str) -> AudioFacts:
        """AudioFacts, or AudioRejected with a reason the app can show."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, validate_file, path, declared, self.limits)

    def close(self) -> None:
        """Stop the pool (after the running validations)."""
        self._pool.shutdown(wait=True)


def validate_file(path: str, declared: str, limits: AudioLimits) -> AudioFacts:
    """Check the file at `path` declared as format `declared` (blocking)."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
        handle.seek(max(0, size - TAIL_BYTES))
        tail = handle.read()
        found = sniff(head)
        if found is None:
            raise AudioRejected("unrecognised_format", "the bytes are not WAV, FLAC, Ogg or MP3")
        if found != declared:
            raise AudioRejected(
                "media_type_mismatch",
                f"declared {NAMES[declared]} but the content is {NAMES[found]}",
            )
        if found == "wav" and wav_data_shortfall(head, size):
            raise AudioRejected(
                "truncated", "the WAV header declares more audio data than the file holds"
            )
        if found in ("vorbis", "opus") and not ogg_ends_cleanly(tail):
            raise AudioRejected("truncated", "the Ogg stream ends without its last page")
        handle.seek(0)
        return _decode(handle, found, limits)


def _decode(handle: BinaryIO, fmt: str, limits: AudioLimits) -> AudioFacts:
    try:
        with soundfile.SoundFile(handle) as audio:
            rate, channels, declared_frames = audio.samplerate, audio.channels, audio.frames
            _check_shape(rate, channels, declared_frames, limits)
            decoded = 0
            while True:
                block = audio.read(BLOCK_FRAMES, dtype="int16", always_2d=True)
                if not len(block):
                    break
                decoded += len(block)
                if decoded > limits.max_duration_s * rate:
                    raise AudioRejected("too_long", f"longer than {limits.max_duration_s} s")
    except soundfile.LibsndfileError as exc:
        raise AudioRejected("corrupt", f"the audio does not decode: {_said(exc)}") from exc
    except (RuntimeError, ValueError) as exc:
        raise AudioRejected("corrupt", f"the audio does not decode: {_said(exc)}") from exc
    if decoded == 0:
        raise AudioRejected("no_audio", "the file holds zero frames of audio")
    if declared_frames and decoded < declared_frames:
        raise AudioRejected(
            "truncated",
            f"the header declares {declared_frames} frames but only {decoded} decode"
            " (truncated or damaged in the middle)",
        )
    return AudioFacts(
        format=fmt,
        sample_rate=rate,
        channels=channels,
        frames=decoded,
        duration_ms=decoded * 1000 // rate,
    )


def _check_shape(rate: int, channels: int, frames: int, limits: AudioLimits) -> None:
    if not limits.min_sample_rate <= rate <= limits.max_sample_rate:
        raise AudioRejected(
            "sample_rate",
            f"sample rate {rate} Hz is outside {limits.min_sample_rate}-{limits.max_sample_rate}",
        )
    if not 1 <= channels <= limits.max_channels:
        raise AudioRejected("channels", f"{channels} channels; at most {limits.max_channels}")
    if frames > limits.max_duration_s * rate:
        raise AudioRejected("too_long", f"longer than {limits.max_duration_s} s")


def _said(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
