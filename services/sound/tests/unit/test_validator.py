"""The validator on real encoder output and on the broken files libsndfile lets through."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

from sound.adapters.soundfile_audio import validate_file
from sound.service.ports import AudioFacts, AudioLimits, AudioRejected
from sound_testing import audio

LIMITS = AudioLimits(max_duration_s=10, min_sample_rate=8000, max_sample_rate=96000, max_channels=2)


def check(data: bytes, declared: str, limits: AudioLimits = LIMITS) -> AudioFacts:
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
    try:
        return validate_file(f.name, declared, limits)
    finally:
        os.unlink(f.name)


def rejected(data: bytes, declared: str, limits: AudioLimits = LIMITS) -> AudioRejected:
    with pytest.raises(AudioRejected) as info:
        check(data, declared, limits)
    return info.value


@pytest.mark.parametrize("fmt", ["wav", "flac", "vorbis", "opus", "mp3"])
def test_every_accepted_format_decodes_to_its_duration(fmt: str) -> None:
    facts = check(audio(fmt, seconds=2.0), fmt)
    assert facts.format == fmt
    assert abs(facts.duration_ms - 2000) <= 30


@pytest.mark.parametrize("fmt", ["wav", "mp3", "vorbis", "opus", "flac"])
def test_a_truncated_file_is_rejected(fmt: str) -> None:
    data = audio(fmt, seconds=2.0)
    reason = rejected(data[: len(data) // 2], fmt)
    assert reason.code in ("truncated", "corrupt"), reason.reason
    if fmt in ("wav", "mp3", "vorbis"):
        assert reason.code == "truncated", reason.reason


def test_an_mp3_with_garbage_in_the_middle_is_rejected() -> None:
    data = audio("mp3", seconds=3.0)
    middle = len(data) // 2
    noise = np.random.default_rng(7).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    reason = rejected(data[:middle] + noise + data[middle + 4000 :], "mp3")
    assert reason.code in ("truncated", "corrupt"), reason.reason


def test_a_wav_header_declaring_more_data_than_present_is_truncated() -> None:
    data = audio("wav", seconds=1.0)
    assert rejected(data[:-1000], "wav").code == "truncated"


def test_an_ogg_declared_as_mp3_is_a_mismatch() -> None:
    reason = rejected(audio("vorbis"), "mp3")
    assert reason.code == "media_type_mismatch"
    assert "Ogg Vorbis" in reason.reason


def test_random_bytes_are_not_audio() -> None:
    data = np.random.default_rng(1).integers(0, 256, 20000, dtype=np.uint8).tobytes()
    assert rejected(data, "mp3").code == "unrecognised_format"


def test_limits_duration_rate_channels_and_zero_frames() -> None:
    assert rejected(audio("wav", seconds=11.0), "wav").code == "too_long"
    assert rejected(audio("flac", rate=4000, seconds=0.5), "flac").code == "sample_rate"
    assert rejected(audio("wav", channels=3, seconds=0.5), "wav").code == "channels"
    assert rejected(audio("wav", seconds=0.0), "wav").code == "no_audio"
