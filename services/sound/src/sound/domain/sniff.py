"""What the bytes are, whatever the app called them: the format from the file's own structure."""

from __future__ import annotations

HEAD_BYTES = 4096


def sniff(head: bytes) -> str | None:
    """`wav`, `flac`, `vorbis`, `opus`, `mp3`, or None (not audio this service takes)."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        if b"OpusHead" in head[:200]:
            return "opus"
        if b"\x01vorbis" in head[:200]:
            return "vorbis"
        return None
    if head[:3] == b"ID3" or _mpeg_frame(head[:4]):
        return "mp3"
    return None


def _mpeg_frame(four: bytes) -> bool:
    """An MPEG-1/2 layer III frame header (11 sync bits, a version, layer III, a bitrate)."""
    if len(four) < 4 or four[0] != 0xFF or four[1] & 0xE0 != 0xE0:
        return False
    version, layer = (four[1] >> 3) & 0x3, (four[1] >> 1) & 0x3
    bitrate, rate = four[2] >> 4, (four[2] >> 2) & 0x3
    return version != 1 and layer == 1 and bitrate not in (0, 15) and rate != 3


def wav_data_shortfall(head: bytes, file_size: int) -> int:
    """Bytes the WAV's `data` chunk declares beyond the end of the file (0 when whole)."""
    offset = 12
    while offset + 8 <= len(head):
        name = head[offset : offset + 4]
        size = int.from_bytes(head[offset + 4 : offset + 8], "little")
        if name == b"data":
            return max(0, offset + 8 + size - file_size)
        offset += 8 + size + (size & 1)
    return 0


def ogg_ends_cleanly(tail: bytes) -> bool:
    """Whether the last Ogg page in `tail` carries the end-of-stream flag (a cut file does not)."""
    at = tail.rfind(b"OggS")
    return at >= 0 and len(tail) > at + 5 and bool(tail[at + 5] & 0x04)
