"""A short WAV the app makes itself when the user picks no file (standard library only)."""

from __future__ import annotations

import io
import math
import struct
import wave


def tone(*, seconds: float = 1.0, hz: float = 440.0, rate: int = 22050) -> bytes:
    """A mono 16-bit sine of `seconds` at `hz`, as WAV bytes."""
    frames = int(seconds * rate)
    samples = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * i / rate))) for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()
